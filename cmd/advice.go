package cmd

import (
	"errors"

	"github.com/dcrctl/dcrctl/client"
)

// cliAdvice is the one place that adds command-line advice (flag names) to an error from
// the packages below, which give only protocol advice. It returns "" or "; " + the advice.
func cliAdvice(err error) string {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return ""
	}
	switch ce.Code {
	case "invalid_client":
		if ce.Op == "client credentials" || ce.Op == "code exchange" || ce.Op == "device token" || ce.Op == "device authorization" {
			return "; check --client-id, the secret and --auth-method"
		}
	case "invalid_scope":
		return "; request another scope with --scope"
	case "unsupported_grant_type":
		return "; use another of --client-credentials, --login or --device"
	}
	return ""
}
