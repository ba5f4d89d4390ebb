package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// confirmHost asks before a command acts on a host that is not the user's own machine; what
// says what it will do there. yes (--yes) skips the question; without a terminal to ask on,
// it refuses.
func confirmHost(ios *IOStreams, issuer, what string, yes bool) error {
	u, err := url.Parse(issuer)
	if err != nil || yes || client.IsLoopback(u.Hostname()) {
		return nil // a bad URL is reported by the engine
	}
	ios.warnf("%s is not a loopback host: %s", u.Host, what)
	if !ios.Interactive() {
		return usageErrorf("refusing to go on with %s without confirmation: add --yes if you mean it", u.Host)
	}
	return ask(ios, "Continue?")
}

// confirm asks question on a terminal before a command changes something that cannot be
// undone; yes (--yes) skips it, and without a terminal nobody is asked.
func confirm(ios *IOStreams, question string, yes bool) error {
	if yes || !ios.Interactive() {
		return nil
	}
	return ask(ios, question)
}

// ask reads a y/N answer; anything but yes is an error saying that nothing was done.
func ask(ios *IOStreams, question string) error {
	fmt.Fprintf(ios.ErrOut, "%s [y/N] ", question)
	line, _ := bufio.NewReader(ios.In).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
		return nil
	}
	return errNotConfirmed
}

// errNotConfirmed is a question answered no (exit code 1): nothing was sent.
var errNotConfirmed = errors.New("not confirmed; nothing was sent or changed")
