package keystore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// Keyring entry limits. Each keyring entry holds at most maxKeyringChunk bytes of a
// credential's secrets: Windows Credential Manager caps a credential blob at 2,560 bytes;
// macOS Keychain accepts about 3,000 bytes of service, account and password together, and
// go-keyring sends a 4,096-byte-or-longer command to /usr/bin/security that silently stores
// nothing (go-keyring base64-encodes the password there, adding a third). 2,000 bytes stays
// under all three with room for the service and account names. A credential may span
// several entries, up to maxKeyringTotal bytes, so a long JWT refresh token still fits.
const (
	maxKeyringChunk = 2000
	maxKeyringTotal = 8 * maxKeyringChunk
)

// osVault keeps secrets in the OS keyring through go-keyring, every call under a timeout.
type osVault struct {
	service     string
	read, write time.Duration
	// busCheck reports, before any D-Bus call, whether a session bus exists; see
	// sessionBusCheck. nil on systems without D-Bus.
	busCheck func() error
}

func newOSVault(o Options) *osVault {
	return &osVault{service: o.Service, read: o.ReadTimeout, write: o.WriteTimeout, busCheck: sessionBusCheck}
}

func (v *osVault) maxChunk() int { return maxKeyringChunk }
func (v *osVault) maxTotal() int { return maxKeyringTotal }
func (v *osVault) describe(acct string) string {
	return fmt.Sprintf("keyring entry (service %q, account %q)", v.service, acct)
}

func (v *osVault) set(ctx context.Context, acct, data string) error {
	if len(data) > maxKeyringChunk { // splitChunks guarantees this; the keyring must never truncate silently
		return &TooBigError{Size: len(data), Max: maxKeyringChunk}
	}
	return v.call(ctx, "write", v.write, func() error { return keyring.Set(v.service, acct, data) })
}

func (v *osVault) get(ctx context.Context, acct string) (string, error) {
	var s string
	err := v.call(ctx, "read", v.read, func() (err error) {
		s, err = keyring.Get(v.service, acct)
		return err
	})
	return s, err
}

func (v *osVault) del(ctx context.Context, acct string) error {
	err := v.call(ctx, "delete", v.write, func() error { return keyring.Delete(v.service, acct) })
	if errors.Is(err, errEntryMissing) {
		return nil
	}
	return err
}

// call runs f, a go-keyring call, under timeout. go-keyring takes no context and can block
// for minutes (a Secret Service that cannot start) or forever (one that hangs, or an unlock
// prompt nobody answers), so f runs in its own goroutine; on timeout that goroutine is
// abandoned, blocked on the bus until the process exits. The result is a typed error.
func (v *osVault) call(ctx context.Context, op string, timeout time.Duration, f func() error) error {
	if v.busCheck != nil {
		if err := v.busCheck(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1) // buffered: an abandoned call can still finish and exit
	go func() { done <- f() }()
	select {
	case err := <-done:
		return classify(err)
	case <-tctx.Done():
		if err := ctx.Err(); err != nil {
			return err
		}
		return &TimeoutError{Op: op, After: timeout}
	}
}

// D-Bus error names that the Secret Service API (and the bus) use.
const (
	dbusServiceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"
	dbusNameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner"
	dbusNoReply        = "org.freedesktop.DBus.Error.NoReply"
	dbusTimeout        = "org.freedesktop.DBus.Error.Timeout"
	dbusUnknownObject  = "org.freedesktop.DBus.Error.UnknownObject"
	dbusUnknownMethod  = "org.freedesktop.DBus.Error.UnknownMethod"
	secretIsLocked     = "org.freedesktop.Secret.Error.IsLocked"
	secretNoSession    = "org.freedesktop.Secret.Error.NoSession"
	secretNoSuchObject = "org.freedesktop.Secret.Error.NoSuchObject"
)

// classify turns a go-keyring error into one of this package's typed errors. go-keyring's
// errors never contain the secret.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var de dbus.Error
	var dep *dbus.Error
	if errors.As(err, &dep) {
		de = *dep
	} else if !errors.As(err, &de) {
		de = dbus.Error{}
	}
	var ne net.Error
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return errEntryMissing
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return &TooBigError{Size: maxKeyringChunk, Max: maxKeyringChunk}
	case de.Name == dbusServiceUnknown || de.Name == dbusNameHasNoOwner:
		return &UnavailableError{Reason: "nothing owns org.freedesktop.secrets on the session bus", Err: err}
	case de.Name == dbusNoReply || de.Name == dbusTimeout:
		return &TimeoutError{Op: "call"} // the bus daemon's own reply timeout
	case de.Name == secretIsLocked:
		return &LockedError{Err: err}
	case de.Name == secretNoSuchObject || de.Name == dbusUnknownObject || de.Name == dbusUnknownMethod || de.Name == secretNoSession:
		return &UnavailableError{Reason: "the Secret Service has no usable default keyring; create one, e.g. with seahorse", Err: err}
	case strings.Contains(err.Error(), "failed to unlock correct collection"):
		// go-keyring's message when an unlock prompt was dismissed or could not be shown.
		return &LockedError{}
	case errors.As(err, &ne), strings.HasPrefix(err.Error(), "dbus:"):
		return &UnavailableError{Reason: "cannot talk to the D-Bus session bus", Err: err}
	}
	return fmt.Errorf("keyring: %w", err)
}
