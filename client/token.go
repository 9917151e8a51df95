package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Audience returns the first "aud" claim of a JWT without verifying the
// token: the Events API host that issued it, such as
// "events.1password.com". Errors never contain the token.
func Audience(token string) (string, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return "", errors.New("token is not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", errors.New("token payload is not base64url")
	}
	var claims struct {
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", errors.New("token payload is not a JSON object")
	}
	if len(claims.Aud) == 0 || string(claims.Aud) == "null" {
		return "", errors.New("token has no aud claim")
	}
	var list []string
	if err := json.Unmarshal(claims.Aud, &list); err != nil {
		var one string
		if json.Unmarshal(claims.Aud, &one) != nil {
			return "", errors.New("token has no aud claim")
		}
		list = []string{one}
	}
	if len(list) == 0 || list[0] == "" {
		return "", errors.New("token has an empty aud claim")
	}
	aud := list[0]
	if strings.ContainsAny(aud, "/?#@ ") {
		return "", errors.New("token aud claim is not a host name")
	}
	return aud, nil
}
