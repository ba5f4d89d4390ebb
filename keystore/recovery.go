package keystore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

// recoveryFile is the content of a recovery file: the whole credential, secrets included.
type recoveryFile struct {
	Warning    string     `json:"warning"`
	WrittenAt  time.Time  `json:"written_at"`
	Credential Credential `json:"credential"`
}

const recoveryWarning = "dcrctl recovery file: it holds secrets in plaintext. Store the credential " +
	"again (dcrctl import FILE) or delete the registration, then delete this file."

// WriteRecovery saves c, secrets included, to a new file of mode 0600 in dir (created with
// mode 0700 if missing; "" means the "recovery" directory in the user's configuration
// directory) and returns its path. The file is written and fsynced before WriteRecovery
// returns; an existing file is never overwritten.
//
// It exists because RFC 7591 registration is not transactional: the server can answer
// 201 Created and the keystore then fail (no keyring, locked, timeout). The CLI must then
// not lose the only copy of the client secret and registration access token. The intended
// sequence after a successful registration is:
//
//  1. Put the credential. On success, done.
//  2. On failure, call WriteRecovery at once, before anything else that can fail.
//  3. If the registration response had a registration_access_token and
//     registration_client_uri, roll the registration back with an RFC 7592 §2.3 DELETE
//     ("A successful delete action will invalidate the client_id, client_secret, and
//     registration access token for this client"). If the DELETE succeeds (204), remove the
//     recovery file and report the store error: nothing was created, nothing is lost.
//  4. Otherwise (no management token, or the DELETE failed) keep the file and report the
//     store error together with the path, e.g. "dcrctl: keyring locked …; the credential
//     was saved to /home/u/.config/dcrctl/recovery/app-20250101T000000Z-1a2b.json
//     (mode 0600): import it with dcrctl import once the keyring works, then delete it".
//
// If WriteRecovery itself fails, the CLI prints nothing secret and should still try the
// RFC 7592 DELETE; when that fails too, the only remaining option is to print the secrets to
// stdout when the user asked for them (-o json) — never to stderr or a log.
func WriteRecovery(dir string, c Credential) (path string, err error) {
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("keystore: recovery: %w", err)
		}
		dir = filepath.Join(base, "dcrctl", "recovery")
	}
	if err := ensurePrivateDir(dir, false); err != nil {
		return "", fmt.Errorf("keystore: recovery: %w", err)
	}
	now := time.Now().UTC()
	data, err := json.MarshalIndent(recoveryFile{Warning: recoveryWarning, WrittenAt: now, Credential: c}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("keystore: recovery: %w", err)
	}
	name := fileSafe(c.Name)
	for range 10 {
		path = filepath.Join(dir, fmt.Sprintf("%s-%s-%s.json", name, now.Format("20060102T150405Z"), newID()[:8]))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("keystore: recovery: %w", err)
		}
		_, err = f.Write(append(data, '\n'))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return "", fmt.Errorf("keystore: recovery: %w", err)
		}
		syncDir(dir)
		return path, nil
	}
	return "", fmt.Errorf("keystore: recovery: could not pick a new file name in %s", dir)
}

// ReadRecovery reads a file written by WriteRecovery.
func ReadRecovery(path string) (Credential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Credential{}, fmt.Errorf("keystore: read recovery file: %w", err)
	}
	var r recoveryFile
	if err := json.Unmarshal(data, &r); err != nil {
		return Credential{}, fmt.Errorf("keystore: read recovery file: %w", &CorruptError{Path: path, Err: err})
	}
	if err := validName(r.Credential.Name); err != nil {
		return Credential{}, fmt.Errorf("keystore: read recovery file: %w", &CorruptError{Path: path, Err: err})
	}
	r.Credential.Registration = compactJSON(r.Credential.Registration)
	r.Credential.LastRequest = compactJSON(r.Credential.LastRequest)
	return r.Credential, nil
}

// fileSafe reduces a credential name to letters, digits, '-', '_' and '.', for a file name.
func fileSafe(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if s == "" {
		s = "credential"
	}
	return s
}
