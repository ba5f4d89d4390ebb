package testserver

import "strings"

// This file is the server's one rule for which request and response members hold a secret,
// and how a secret is shown when it must be shown at all (the debugger page). Anything that
// displays protocol traffic goes through isSecretName and maskSecret.

// isSecretName reports whether a JSON member, form parameter or query parameter of this name
// holds a secret: client secrets, registration access tokens, access, refresh and ID tokens,
// codes (authorization, device and user codes, PKCE verifiers), passwords, assertions,
// software statements, anti-CSRF values and private key material.
func isSecretName(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "code", "device_code", "user_code", "code_verifier", "token", "assertion",
		"client_assertion", "software_statement", "subject_token", "actor_token":
		return true
	}
	switch {
	case strings.Contains(n, "secret") && !strings.HasSuffix(n, "_expires_at"),
		strings.Contains(n, "password"),
		strings.HasSuffix(n, "_token"),
		strings.Contains(n, "private"):
		return true
	}
	return false
}

// jwkPrivateMembers hold private or symmetric key material in a JWK (RFC 7518 §6.2.2, §6.3.2, §6.4).
var jwkPrivateMembers = map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "oth": true, "k": true}

// maskShowMin is the shortest secret whose last four characters are shown: below it (user
// codes, passwords) the last four characters would give too much away.
const maskShowMin = 16

// maskSecret is how a secret is shown: its last four characters after a mask, so that two
// values can be told apart; nothing of a short one.
func maskSecret(v string) string {
	if v == "" {
		return ""
	}
	if len(v) < maskShowMin {
		return "••••"
	}
	return "••••" + v[len(v)-4:]
}
