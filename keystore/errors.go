package keystore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound reports that no credential has the given name. Match it with errors.Is.
var ErrNotFound = errors.New("no such credential: see dcrctl list for the stored names")

// ErrSecretsMissing reports that the index names a credential whose secrets are no longer in
// the secret store (the keyring was reset, or an entry was deleted by hand). Match it with
// errors.Is.
var ErrSecretsMissing = errors.New("the credential's secrets are missing from its keystore: " +
	"restore them from a recovery file, or register again and delete the old registration")

// UnavailableError reports that the secret store cannot be reached at all: no Secret Service
// on the session bus, no session bus, or no default keyring collection.
type UnavailableError struct {
	Reason string // what is missing, e.g. "no D-Bus session bus"
	Err    error  // the underlying error, if any; never holds a secret
}

func (e *UnavailableError) Error() string {
	msg := "no Secret Service is running"
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	msg += ": install gnome-keyring (or another Secret Service such as KeePassXC) and start it " +
		"in your session, or use --keystore file (an insecure plaintext file)"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// LockedError reports that the keyring is locked and could not be unlocked (no prompt could
// be shown, or the prompt was dismissed).
type LockedError struct {
	Err error // the underlying error, if any
}

func (e *LockedError) Error() string {
	msg := "the keyring is locked (or has no default keyring yet) and no unlock prompt " +
		"could be shown: unlock it (log in to your desktop session, or run " +
		"gnome-keyring-daemon --unlock and type its password, which also creates the login " +
		"keyring), then retry, or use --keystore file"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *LockedError) Unwrap() error { return e.Err }

// TimeoutError reports that the keyring, or another dcrctl process holding the index lock,
// did not answer in time. It matches context.DeadlineExceeded with errors.Is.
type TimeoutError struct {
	Op    string        // "read", "write", "delete" or "lock"
	After time.Duration // how long we waited
	Path  string        // for Op "lock": the lock file
}

func (e *TimeoutError) Error() string {
	if e.Op == "lock" {
		return fmt.Sprintf("another dcrctl process held %s for more than %s: "+
			"wait for it to finish, or stop it, then retry", e.Path, e.After)
	}
	within := "in time"
	if e.After > 0 {
		within = "within " + e.After.String()
	}
	return fmt.Sprintf("the keyring did not answer a %s %s: it may be waiting "+
		"for an unlock prompt or be hung; unlock or restart it, allow more time with "+
		"%s=30s, or use --keystore file", e.Op, within, EnvKeyringTimeout)
}

// Is makes errors.Is(err, context.DeadlineExceeded) true, so callers map it to a timeout.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// TooBigError reports that a credential's secrets do not fit in the secret store.
type TooBigError struct {
	Size, Max int // bytes
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("the credential's secrets take %d bytes, more than the %d "+
		"bytes this keystore holds for one credential: do not keep the refresh token "+
		"(or other very long tokens) with it, or use --keystore file", e.Size, e.Max)
}

// CorruptError reports that the index or the plaintext secrets file cannot be parsed. The
// file is left untouched.
type CorruptError struct {
	Path string
	Err  error // the parse error; it names an offset, not the content
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s is corrupt (%v): move it aside and restore it from a "+
		"backup; the keyring entries are named after the ids in it, so keep the damaged copy",
		e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// WrongKeystoreError reports that a credential's secrets live in another keystore than the
// one opened.
type WrongKeystoreError struct {
	Name, Has, Opened string
}

func (e *WrongKeystoreError) Error() string {
	return fmt.Sprintf("the secrets of %q are in the %q keystore, not %q: run "+
		"with --keystore %s", e.Name, e.Has, e.Opened, e.Has)
}
