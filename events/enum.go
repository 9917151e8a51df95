package events

// Enumerations of the Events API (spec §6.2, §6.3, §7). The API may return
// values not listed here; validation of ingested events accepts only these.

// Sign-in attempt categories.
var SignInCategories = []string{
	"success", "credentials_failed", "mfa_failed", "sso_failed",
	"modern_version_failed", "firewall_failed", "firewall_reported_success",
}

// SignInTypesByCategory maps each category to the types that belong to it.
// 1Password publishes no such mapping; this one is read from the names
// (spec §6.2) and is what the simulator and ingest validation use.
var SignInTypesByCategory = map[string][]string{
	"success":            {"credentials_ok", "mfa_ok", "federated"},
	"credentials_failed": {"password_secret_bad"},
	"mfa_failed": {
		"mfa_missing", "totp_disabled", "totp_bad", "totp_timeout",
		"u2f_disabled", "u2f_bad", "u2f_timeout",
		"duo_disabled", "duo_bad", "duo_timeout", "duo_native_bad",
		"platform_secret_disabled", "platform_secret_bad", "platform_secret_proxy",
		"code_disabled", "code_bad", "code_timeout",
	},
	"sso_failed":                {"service_account_sso_denied", "non_sso_user", "sso_user_mismatch"},
	"modern_version_failed":     {"modern_version_missing", "modern_version_old"},
	"firewall_failed":           {"ip_blocked", "continent_blocked", "country_blocked", "anonymous_blocked", "all_blocked"},
	"firewall_reported_success": {"ip_blocked", "continent_blocked", "country_blocked", "anonymous_blocked", "all_blocked"},
}

// SignInTypes lists every sign-in type. "federated" is v2 only.
var SignInTypes = []string{
	"credentials_ok", "mfa_ok", "password_secret_bad", "mfa_missing",
	"totp_disabled", "totp_bad", "totp_timeout",
	"u2f_disabled", "u2f_bad", "u2f_timeout",
	"duo_disabled", "duo_bad", "duo_timeout", "duo_native_bad",
	"platform_secret_disabled", "platform_secret_bad", "platform_secret_proxy",
	"code_disabled", "code_bad", "code_timeout",
	"ip_blocked", "continent_blocked", "country_blocked", "anonymous_blocked", "all_blocked",
	"modern_version_missing", "modern_version_old",
	"service_account_sso_denied", "non_sso_user", "sso_user_mismatch",
	"federated",
}

// UserTypes are the values of User.UserType and AuditEvent.ActorType.
var UserTypes = []string{"user", "external_user"}

// ItemUsageActions lists the actions of item usages.
var ItemUsageActions = []string{
	"enter-item-edit-mode", "export", "fill", "other", "reveal", "secure-copy",
	"select-sso-provider", "server-create", "server-fetch", "server-update", "share",
}

// AuditCatalog maps each audit object type to the actions 1Password emits
// for it (spec §7.2), plus provsn/replace/vaultkey which the catalog lacks.
var AuditCatalog = map[string][]string{
	"account":  {"activate", "update", "delete", "convert", "enblduo", "updatduo", "disblduo", "updatfw", "uisas", "disblmfa", "vrfydmn", "uvrfydmn", "dvrfydmn"},
	"dlgdsess": {"dlgsess"},
	"device":   {"create", "update", "delete", "reauth"},
	"user": {"deolddev", "dealldev", "enblmfa", "updatmfa", "disblmfa", "sendpkg", "sendts", "resendts", "upguest",
		"verify", "join", "activate", "reactive", "suspend", "delete", "beginr", "completr", "cancelr",
		"trvlaway", "trvlback", "changeks", "changemp", "changesk", "changenm", "changela", "tdvcsso", "sdvcsso", "provsn"},
	"ec":       {"begin", "complete", "propose"},
	"famchild": {"rdmchild", "detchild"},
	"file":     {"create"},
	"group":    {"create", "delete", "update", "purge", "changeks"},
	"gm":       {"join", "leave", "role"},
	"gva":      {"grant", "revoke", "update"},
	"invite":   {"create", "update", "prsndall"},
	"items":    {"patch", "delete", "purge"},
	"itemhist": {"purge"},
	"item":     {"share", "delshare"},
	"mngdacc":  {"create", "launchi", "unlink"},
	"report":   {"export", "view"},
	"sa":       {"create", "expire"},
	"satoken":  {"create", "trename", "tverify", "trevoke"},
	"ssotkn":   {"ssotknv"},
	"slackapp": {"create", "delete", "update"},
	"sso":      {"enblsso", "disblsso", "chngpsso", "chngasso", "chngdsso", "addgsso", "delgsso"},
	"card":     {"create", "update", "delete"},
	"pm":       {"create", "delete"},
	"sub":      {"create", "update", "cancel"},
	"template": {"create", "update", "hide", "unhide", "delete"},
	"unknown":  {"unknown"},
	"miguser":  {"create", "musercom", "muserdec"},
	"uva":      {"grant", "revoke", "update"},
	"cred":     {"create", "delete"},
	"vault":    {"create", "delete", "purge", "update", "updatea", "export"},
	"vaultkey": {"replace"},
}

// AuditActions lists the 79 audit actions of the v2 API (spec §7.1).
var AuditActions = []string{
	"activate", "addgsso", "begin", "beginr", "cancel", "cancelr", "changeks", "changela", "changemp",
	"changenm", "changesk", "chngasso", "chngdsso", "chngpsso", "complete", "completr", "convert",
	"create", "dealldev", "delete", "delgsso", "delshare", "deolddev", "detchild", "disblduo",
	"disblmfa", "disblsso", "dlgsess", "dvrfydmn", "enblduo", "enblmfa", "enblsso", "expire",
	"export", "grant", "hide", "join", "launchi", "leave", "musercom", "muserdec", "patch",
	"propose", "provsn", "prsndall", "purge", "rdmchild", "reactive", "reauth", "replace",
	"resendts", "revoke", "role", "sdvcsso", "sendpkg", "sendts", "share", "ssotknv", "suspend",
	"tdvcsso", "trename", "trevoke", "trvlaway", "trvlback", "tverify", "uisas", "unhide",
	"unknown", "unlink", "updatduo", "update", "updatea", "updatfw", "updatmfa", "upguest",
	"uvrfydmn", "verify", "view", "vrfydmn",
}

// AuditObjectTypes lists the 30 audit object types of the v2 API.
var AuditObjectTypes = []string{
	"account", "card", "cred", "device", "dlgdsess", "ec", "famchild", "file", "gm", "group",
	"gva", "invite", "item", "itemhist", "items", "mngdacc", "pm", "report", "sa", "satoken",
	"slackapp", "sso", "ssotkn", "sub", "template", "unknown", "user", "uva", "vault", "vaultkey",
}

// AuditActionsV2Only and AuditObjectTypesV2Only are the audit values the
// v1 schema (1.2.0) cannot name: the actions and object type 1Password added
// with v2 (spec §6.6), and passkeys ("cred"), added after 1.2.0. /api/v1
// does not serve audit events that carry one (docs/design.md, "v1 and
// v2-only values").
var (
	AuditActionsV2Only     = []string{"expire", "launchi", "unlink"}
	AuditObjectTypesV2Only = []string{"cred", "mngdacc"}
)

// AuditOnV1 reports whether /api/v1 serves an audit event with this action
// and object type.
func AuditOnV1(action, objectType string) bool {
	return !In(action, AuditActionsV2Only) && !In(objectType, AuditObjectTypesV2Only)
}

// In reports whether s is one of list.
func In(s string, list []string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
