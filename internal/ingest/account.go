package ingest

import "github.com/logbookhq/logbook/events"

// Events stored in an account name that account. An event that names
// another one in account_uuid (a simulator file made for another
// account, events exported from elsewhere) is rewritten as it is stored:
// account_uuid becomes the account's uuid, and so does every other field
// that named the same old account (actor_account_uuid, a user's
// user_account_uuid, an audit event's object_uuid), since they meant the
// account the event happened in. Accounts other than the event's own (an
// external user's, say) are kept. An event without account_uuid is left
// without, as the Events API serves it only for MSP accounts.

// rehome rewrites ev (as parseItem returns it) to name account; see above.
func rehome(ev any, account string) any {
	switch e := ev.(type) {
	case *events.SignInAttempt:
		rehomeSignIn(e, account)
	case events.SignInAttempt:
		rehomeSignIn(&e, account)
		return e
	case *events.ItemUsage:
		rehomeItemUsage(e, account)
	case events.ItemUsage:
		rehomeItemUsage(&e, account)
		return e
	case *events.AuditEvent:
		rehomeAudit(e, account)
	case events.AuditEvent:
		rehomeAudit(&e, account)
		return e
	}
	return ev
}

func rehomeSignIn(e *events.SignInAttempt, account string) {
	if old := e.AccountUUID; old != "" && old != account {
		e.AccountUUID = account
		rehomeUser(&e.TargetUser, old, account)
	}
}

func rehomeItemUsage(e *events.ItemUsage, account string) {
	if old := e.AccountUUID; old != "" && old != account {
		e.AccountUUID = account
		rehomeUser(&e.User, old, account)
	}
}

func rehomeAudit(e *events.AuditEvent, account string) {
	old := e.AccountUUID
	if old == "" || old == account {
		return
	}
	e.AccountUUID = account
	if e.ActorAccountUUID == old {
		e.ActorAccountUUID = account
	}
	if e.ObjectUUID != nil && *e.ObjectUUID == old {
		e.ObjectUUID = &account
	}
	for _, u := range []*events.User{e.ActorDetails, e.ObjectDetails, e.AuxDetails} {
		if u != nil {
			rehomeUser(u, old, account)
		}
	}
}

func rehomeUser(u *events.User, old, account string) {
	if u.UserAccountUUID == old {
		u.UserAccountUUID = account
	}
}
