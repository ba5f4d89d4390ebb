package cmd

import (
	"fmt"

	"github.com/dcrctl/dcrctl/flows"
	"github.com/spf13/pflag"
)

// addBrowserFlags adds the flags of a browser login.
func (o *grantOptions) addBrowserFlags(f *pflag.FlagSet, prefix string) {
	f.BoolVar(&o.Browser, "browser", false, prefix+"open the browser even when not interactive (stdin not a terminal, or CI=true)")
	f.BoolVar(&o.NoBrowser, "no-browser", false, prefix+"print the URL, do not open a browser")
	f.BoolVar(&o.ForceLogin, "force-login", false, prefix+"ask for the password even with an SSO session (prompt=login)")
	f.DurationVar(&o.LoginTimeout, "login-timeout", flows.DefaultLoginTimeout, prefix+"time allowed for the browser login")
}

// opensBrowser is the one rule for opening a browser, the same for token --login, register
// --login and login NAME: never with --no-browser; always when asked — --browser, or a
// browser named in DCRCTL_BROWSER or BROWSER; otherwise only in an interactive session
// (stdin and stderr terminals, CI not true). When it does not open one, the URL is printed.
func (o *grantOptions) opensBrowser(ios *IOStreams) bool {
	switch {
	case o.NoBrowser:
		return false
	case o.Browser, o.OpenURL != nil, ios.getenv("DCRCTL_BROWSER") != "", ios.getenv("BROWSER") != "":
		return true
	case ios.Interactive():
		return true
	}
	fmt.Fprintln(ios.ErrOut, "not interactive: open the URL below yourself, or run with --browser (or set DCRCTL_BROWSER)")
	return false
}

func (o *grantOptions) openURL(ios *IOStreams) func(string) error {
	if o.OpenURL != nil {
		return o.OpenURL
	}
	return flows.Browser{Getenv: ios.getenv, Stderr: ios.ErrOut}.Open
}
