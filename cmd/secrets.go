package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"
)

// maxSecretSize bounds a secret read from a file or stdin.
const maxSecretSize = 64 << 10

// readSecret returns a secret without it ever being on the command line. Sources, in order:
//   - file "-": standard input (on a terminal, prompted for with label and not echoed);
//   - file, any other path: the file's contents;
//   - the environment variable env (when env is not "").
//
// Surrounding white space (a trailing newline) is trimmed. It returns "" and no error when no
// source is given. The secret never appears in an error.
func readSecret(ios *IOStreams, label, file, env string) (string, error) {
	var data []byte
	switch {
	case file == "-":
		if f, ok := ios.In.(*os.File); ok && ios.InTTY {
			fmt.Fprintf(ios.ErrOut, "%s: ", label)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(ios.ErrOut)
			if err != nil {
				return "", fmt.Errorf("reading the %s from the terminal: %w", label, err)
			}
			data = b
			break
		}
		b, err := io.ReadAll(io.LimitReader(ios.In, maxSecretSize+1))
		if err != nil {
			return "", fmt.Errorf("reading the %s from standard input: %w", label, err)
		}
		data = b
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("reading the %s: %w", label, err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
		if err != nil {
			return "", fmt.Errorf("reading the %s from %s: %w", label, file, err)
		}
		data = b
	case env != "":
		return strings.TrimSpace(ios.getenv(env)), nil
	default:
		return "", nil
	}
	if len(data) > maxSecretSize {
		return "", fmt.Errorf("the %s is longer than %d bytes: is it the right file?", label, maxSecretSize)
	}
	s := string(bytes.TrimSpace(data))
	if s == "" {
		return "", errors.New("the " + label + " is empty: check the file or what was piped to standard input")
	}
	return s, nil
}

// oneStdinReader refuses more than one of the flags (name → value) reading standard input
// ("-"): stdin can be read only once.
func oneStdinReader(flags map[string]string) error {
	var on []string
	for name, v := range flags {
		if v == "-" {
			on = append(on, name+" -")
		}
	}
	if len(on) < 2 {
		return nil
	}
	slices.Sort(on)
	all := "all"
	if len(on) == 2 {
		all = "both"
	}
	return usageErrorf("%s %s read standard input, which can be read only once: give all but one a file (a secret file of mode 0600, or the environment: DCRCTL_CLIENT_SECRET, DCRCTL_TOKEN)", strings.Join(on, " and "), all)
}
