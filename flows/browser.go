package flows

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/google/shlex"
	"github.com/pkg/browser"
)

// Browser opens URLs in the user's browser, as RFC 8252 §6 asks of native apps (the system
// browser, never an embedded one). Its zero value reads the process environment and sends the
// browser's output to os.Stderr.
//
// The program is chosen in this order:
//  1. DCRCTL_BROWSER, then BROWSER: a command line split like a shell does (quotes and
//     backslashes, no expansion) and run without a shell; every "%s" in it is replaced by the
//     URL, or the URL is appended as the last argument. BROWSER may list several commands
//     separated by the path list separator (":" on Unix); the first that starts is used.
//  2. Otherwise the desktop's default browser via github.com/pkg/browser — but not over SSH
//     (SSH_CONNECTION or SSH_TTY set) nor on a Unix without DISPLAY or WAYLAND_DISPLAY: there
//     Open returns [ErrNoBrowser] without trying.
//
// Only http and https URLs are ever opened.
type Browser struct {
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Stderr receives the browser's standard output and standard error (never our stdout,
	// which must stay clean for scripts); nil means os.Stderr.
	Stderr io.Writer
	// GOOS is the operating system the display rules apply to; "" means runtime.GOOS.
	GOOS string
}

// pkgBrowserMu guards pkg/browser's package-level Stdout and Stderr.
var pkgBrowserMu sync.Mutex

// Open opens u. A program from DCRCTL_BROWSER or BROWSER is started and not waited for (a
// browser may run until the user closes it); the default browser's launcher (xdg-open, open,
// rundll32) is run to completion.
func (b Browser) Open(u string) error {
	if err := checkOpenable(u); err != nil {
		return err
	}
	getenv := b.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	stderr := b.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	for _, name := range []string{"DCRCTL_BROWSER", "BROWSER"} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		cmds := []string{v}
		if name == "BROWSER" {
			cmds = filepath.SplitList(v)
		}
		var errs []error
		for _, c := range cmds {
			err := startCommand(c, u, stderr)
			if err == nil {
				return nil
			}
			errs = append(errs, err)
		}
		return fmt.Errorf("flows: open browser: %s: %w", name, errors.Join(errs...))
	}
	goos := b.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	if getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "" {
		return ErrNoBrowser
	}
	switch goos {
	case "windows", "darwin", "ios", "android", "js", "wasip1", "plan9":
	default: // X11 or Wayland desktops
		if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
			return ErrNoBrowser
		}
	}
	pkgBrowserMu.Lock()
	defer pkgBrowserMu.Unlock()
	browser.Stdout, browser.Stderr = stderr, stderr
	if err := browser.OpenURL(u); err != nil {
		return fmt.Errorf("flows: open browser: %w", err)
	}
	return nil
}

// checkOpenable refuses anything but an absolute http or https URL, so that a hostile
// authorization_endpoint cannot make us open a file: or javascript: URL or a local program.
func checkOpenable(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("flows: open browser: only http and https URLs are opened, not %q", redactURL(u))
	}
	return nil
}

// startCommand runs the command line line with the URL, without a shell.
func startCommand(line, u string, stderr io.Writer) error {
	args, err := shlex.Split(line)
	if err != nil {
		return fmt.Errorf("cannot split %q like a shell: %w", line, err)
	}
	if len(args) == 0 {
		return fmt.Errorf("empty command %q", line)
	}
	replaced := false
	for i, a := range args {
		if strings.Contains(a, "%s") {
			args[i] = strings.ReplaceAll(a, "%s", u)
			replaced = true
		}
	}
	if !replaced {
		args = append(args, u)
	}
	c := exec.Command(args[0], args[1:]...)
	c.Stdin = nil
	c.Stdout = stderr
	c.Stderr = stderr
	if err := c.Start(); err != nil {
		return err
	}
	go func() { _ = c.Wait() }() // reap it; a browser may run until the user closes it
	return nil
}

// redactURL keeps only scheme, host and path of u for messages.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.RawQuery, p.Fragment, p.User, p.Opaque = "", "", nil, ""
	return p.String()
}
