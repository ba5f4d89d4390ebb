package cmd

import (
	"fmt"

	"github.com/dcrctl/dcrctl/testserver"
)

// debugPasswordEnv holds the debugger page's password when --debug-page is not given.
const debugPasswordEnv = "DCRCTL_DEBUG_PAGE_PASSWORD"

const debugPageUsage = `the debugger page at ISSUER/debug: "off", or a file holding its password ("-": standard input; or set ` + debugPasswordEnv + `); without a password it is served on loopback addresses only`

// applyDebugPage sets cfg.DebugPage from --debug-page (value) or the environment, and says
// on stderr where the page is, or why it is off.
func applyDebugPage(ios *IOStreams, value string, cfg *testserver.Config, loopback bool) error {
	switch value {
	case "off":
		cfg.DebugPage.Off = true
		return nil
	case "":
		cfg.DebugPage.Password = ios.getenv(debugPasswordEnv)
	default:
		pw, err := readSecret(ios, "debugger page password", value, "")
		if err != nil {
			return usageErrorf("--debug-page: %v", err)
		}
		cfg.DebugPage.Password = pw
	}
	switch {
	case cfg.DebugPage.Off:
	case cfg.DebugPage.Password != "":
		fmt.Fprintf(ios.ErrOut, "dcrctl serve: debugger page at %s/debug (password required)\n", cfg.Issuer)
	case loopback:
		fmt.Fprintf(ios.ErrOut, "dcrctl serve: debugger page at %s/debug (loopback only; --debug-page off turns it off)\n", cfg.Issuer)
	default:
		fmt.Fprintf(ios.ErrOut, "dcrctl serve: the debugger page is off on a non-loopback address: give it a password with --debug-page FILE or %s\n", debugPasswordEnv)
	}
	return nil
}
