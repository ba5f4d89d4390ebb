package cmd

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// This file is the one home of `-o env`: the names it prints, and the environment variables
// dcrctl reads. The two never meet, so that
//
//	eval "$(dcrctl show app -o env --show-secrets)"
//
// cannot change what the next dcrctl command does (it once set DCRCTL_CLIENT_SECRET and
// DCRCTL_ISSUER, and the next `register --client-credentials` sent the wrong secret).

// defaultEnvPrefix starts every name that -o env prints, unless --env-prefix says otherwise.
const defaultEnvPrefix = "DCR_"

// inputEnv lists every environment variable that dcrctl or its packages read. TestEnvInputs
// checks the source for DCRCTL_ names missing here.
var inputEnv = []string{
	"BROWSER", "CI", "HOME", "NO_COLOR", "SSL_CERT_FILE", "SSL_CERT_DIR",
	"DBUS_SESSION_BUS_ADDRESS",
	"DCRCTL_BROWSER", "DCRCTL_CLIENT_SECRET", "DCRCTL_CONFIG_DIR", "DCRCTL_DEBUG_PAGE_PASSWORD", "DCRCTL_ISSUER",
	"DCRCTL_KEYRING_TIMEOUT", "DCRCTL_KEYSTORE", "DCRCTL_PROFILE", "DCRCTL_TOKEN",
}

// envVar is one NAME=value line of -o env; the name is without the prefix.
type envVar struct{ name, value string }

// checkEnvPrefix refuses a prefix whose output would set one of dcrctl's inputs.
func checkEnvPrefix(prefix string) error {
	if prefix == "" || strings.IndexFunc(prefix, func(r rune) bool {
		return !(r == '_' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0 {
		return usageErrorf("--env-prefix %q: use upper-case letters, digits and _ (default %s)", prefix, defaultEnvPrefix)
	}
	if strings.HasPrefix(prefix, "DCRCTL_") {
		return usageErrorf("--env-prefix %q: names starting with DCRCTL_ are dcrctl's own inputs; choose another prefix (default %s)", prefix, defaultEnvPrefix)
	}
	return nil
}

// writeEnv prints prefix+name='value' lines for the variables with a value, quoted for a
// POSIX shell. A name that is one of dcrctl's inputs is refused.
func writeEnv(w io.Writer, prefix string, vars []envVar) error {
	if prefix == "" {
		prefix = defaultEnvPrefix
	}
	if err := checkEnvPrefix(prefix); err != nil {
		return err
	}
	var b strings.Builder
	for _, v := range vars {
		if v.value == "" {
			continue
		}
		name := prefix + v.name
		if slices.Contains(inputEnv, name) {
			return usageErrorf("-o env would set %s, which dcrctl reads: choose another --env-prefix", name)
		}
		fmt.Fprintf(&b, "%s=%s\n", name, shellQuote(v.value))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
