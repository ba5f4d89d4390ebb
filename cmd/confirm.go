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
	fmt.Fprintf(ios.ErrOut, "warning: %s is not a loopback host: %s\n", u.Host, what)
	if !ios.Interactive() {
		return usageErrorf("refusing to go on with %s without confirmation: add --yes if you mean it", u.Host)
	}
	fmt.Fprint(ios.ErrOut, "Continue? [y/N] ")
	line, _ := bufio.NewReader(ios.In).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
		return nil
	}
	return errors.New("not confirmed; nothing was sent")
}
