package registrar

import (
	"fmt"
)

// StoreError reports that the store failed after the server had acted: a registration, or a
// read or update that may have rotated the credential. Exactly one of these holds:
//
//   - RolledBack: the registration was deleted at the server again; nothing exists.
//   - RecoveryFile != "": the credential, secrets included, is in that file (mode 0600):
//     store it with Import once the store works, then delete the file.
//   - neither: the credential could be kept nowhere; Result.Registration, returned with the
//     error, is the only copy.
type StoreError struct {
	Op           string // "register", "read" or "update"
	Name         string // the credential's name
	ClientID     string
	Err          error  // the store's error
	RollbackErr  error  // register: why the rollback failed (nil if not tried or it worked)
	RecoveryFile string // where the credential was saved, or ""
	RecoveryErr  error  // why no recovery file could be written
	RolledBack   bool
}

func (e *StoreError) Error() string {
	switch {
	case e.RolledBack:
		return fmt.Sprintf("could not store the credential %q (%v); the registration of client %s was rolled back at the server (RFC 7592 delete), so nothing was created", e.Name, e.Err, e.ClientID)
	case e.RecoveryFile != "" && e.Op == "register":
		return fmt.Sprintf("could not store the credential %q (%v), and rolling the registration back failed (%v); the credential of client %s was saved to %s (mode 0600): store it from there once the keystore works, then delete the file", e.Name, e.Err, e.RollbackErr, e.ClientID, e.RecoveryFile)
	case e.RecoveryFile != "":
		return fmt.Sprintf("could not store the credential %q after the %s (%v); its current secrets, which the server may have rotated, were saved to %s (mode 0600): store it from there once the keystore works, then delete the file", e.Name, e.Op, e.Err, e.RecoveryFile)
	case e.Op == "register":
		return fmt.Sprintf("could not store the credential %q (%v), roll the registration back (%v) or write a recovery file (%v): client %s exists at the server and the only copy of its secrets is the result returned with this error", e.Name, e.Err, e.RollbackErr, e.RecoveryErr, e.ClientID)
	default:
		return fmt.Sprintf("the server may have rotated the credential %q, and neither the keystore (%v) nor a recovery file (%v) could keep it: the only copy is the result returned with this error", e.Name, e.Err, e.RecoveryErr)
	}
}

// Unwrap returns the store's error.
func (e *StoreError) Unwrap() error { return e.Err }

// NameTakenError reports that a credential of that name is stored already.
type NameTakenError struct{ Name string }

func (e *NameTakenError) Error() string {
	return fmt.Sprintf("a credential named %q is stored already: choose another name, or remove that one first", e.Name)
}

// ClientIDTakenError reports that the client is stored already under another name: two
// names sharing one registration access token would break as soon as one of them rotates it.
type ClientIDTakenError struct {
	ClientID, Issuer string
	Existing         string // the name it is stored under
}

func (e *ClientIDTakenError) Error() string {
	return fmt.Sprintf("client %s is stored already as %q: two names would share one registration access token, and the first rotation would break the other; use %q, or remove it first", e.ClientID, e.Existing, e.Existing)
}

// NotManagedError reports a credential without a registration access token or registration
// client URI: the server offered no RFC 7592 management for it.
type NotManagedError struct {
	Name, ClientID string
	Op             string
}

func (e *NotManagedError) Error() string {
	return fmt.Sprintf("%q (client %s) has no registration access token or client URI: the server does not offer RFC 7592 management for it, so it cannot be %s", e.Name, e.ClientID, map[string]string{"read": "read", "update": "updated", "delete": "deleted"}[e.Op])
}

// ForgetError reports that the client was deleted at the server but its credential could
// not be removed from the store.
type ForgetError struct {
	Name, ClientID string
	Err            error
}

func (e *ForgetError) Error() string {
	return fmt.Sprintf("client %s was deleted at the server, but removing the credential %q from the keystore failed (%v): remove it from the keystore", e.ClientID, e.Name, e.Err)
}

// Unwrap returns the store's error.
func (e *ForgetError) Unwrap() error { return e.Err }
