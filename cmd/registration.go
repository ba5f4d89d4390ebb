package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/keystore"
)

func init() {
	classifiers = append(classifiers, classifyClientError, classifyKeystoreError)
}

// classifyClientError maps the protocol error of packages client and flows (one type,
// client.Error) to exit codes: a refused token, credential or login is an authentication
// error (4), an expired device code a timeout (6), any other answer of the server a server
// error (3).
func classifyClientError(err error) (int, bool) {
	var ce *client.Error
	if errors.As(err, &ce) {
		switch ce.Code {
		case "invalid_token", "insufficient_scope", "invalid_client", "unauthorized_client", "invalid_grant",
			"invalid_scope", "access_denied", "login_required", "interaction_required", "consent_required",
			"account_selection_required":
			return ExitAuth, true
		case "expired_token":
			return ExitTimeout, true
		}
		if ce.StatusCode == 401 {
			return ExitAuth, true
		}
		return ExitServer, true
	}
	if errors.Is(err, client.ErrIncompleteResponse) || errors.Is(err, client.ErrIssuerMismatch) {
		return ExitServer, true
	}
	return 0, false
}

// classifyKeystoreError maps package keystore's errors to exit code 5. Its timeouts match
// context.DeadlineExceeded and are exit code 6 before this runs.
func classifyKeystoreError(err error) (int, bool) {
	var (
		ue *keystore.UnavailableError
		le *keystore.LockedError
		tb *keystore.TooBigError
		ce *keystore.CorruptError
		we *keystore.WrongKeystoreError
		se *storeError
	)
	switch {
	case errors.Is(err, keystore.ErrNotFound), errors.Is(err, keystore.ErrSecretsMissing),
		errors.As(err, &ue), errors.As(err, &le), errors.As(err, &tb), errors.As(err, &ce),
		errors.As(err, &we), errors.As(err, &se):
		return ExitKeystore, true
	}
	return 0, false
}

// storeError marks a failure to store a credential the server has issued (exit code 5).
type storeError struct{ Err error }

func (e *storeError) Error() string { return e.Err.Error() }
func (e *storeError) Unwrap() error { return e.Err }

// credentialFrom builds the credential to store from a registration; the secrets go to the
// secret fields, the rest of the response (minus secrets) to Registration.
func credentialFrom(name, issuer, template string, reg *client.Registration) (keystore.Credential, error) {
	pub, err := json.Marshal(reg.WithoutSecrets())
	if err != nil {
		return keystore.Credential{}, fmt.Errorf("encode the registration: %w", err)
	}
	c := keystore.Credential{
		Name: name, Issuer: issuer, ClientID: reg.ClientID, RegistrationClientURI: reg.RegistrationClientURI,
		Template: template, GrantTypes: reg.GrantTypes, RedirectURIs: reg.RedirectURIs,
		ClientSecret: reg.ClientSecret, RegistrationAccessToken: reg.RegistrationAccessToken,
		Registration: pub,
	}
	if template == "" {
		c.Template = reg.SoftwareID
	}
	if reg.ClientIDIssuedAt != 0 {
		c.IssuedAt = time.Unix(reg.ClientIDIssuedAt, 0).UTC()
	}
	if reg.ClientSecretExpiresAt != 0 {
		c.SecretExpiresAt = time.Unix(reg.ClientSecretExpiresAt, 0).UTC()
	}
	return c, nil
}

// registrationFrom rebuilds the registration from a stored credential.
func registrationFrom(c keystore.Credential) (*client.Registration, error) {
	reg := &client.Registration{}
	if len(c.Registration) > 0 {
		if err := json.Unmarshal(c.Registration, reg); err != nil {
			return nil, fmt.Errorf("the stored registration of %q cannot be read (%v): run dcrctl get %s to fetch it again", c.Name, err, c.Name)
		}
	}
	reg.ClientID = c.ClientID
	reg.ClientSecret = c.ClientSecret
	reg.RegistrationAccessToken = c.RegistrationAccessToken
	reg.RegistrationClientURI = c.RegistrationClientURI
	if !c.SecretExpiresAt.IsZero() {
		reg.ClientSecretExpiresAt = c.SecretExpiresAt.Unix()
	}
	if !c.IssuedAt.IsZero() && reg.ClientIDIssuedAt == 0 {
		reg.ClientIDIssuedAt = c.IssuedAt.Unix()
	}
	if reg.GrantTypes == nil {
		reg.GrantTypes = c.GrantTypes
	}
	if reg.RedirectURIs == nil {
		reg.RedirectURIs = c.RedirectURIs
	}
	return reg, nil
}

// persistRotated stores what a read or update returned — RFC 7592 §2.1: "If the
// authorization server includes a new client secret and/or registration access token in its
// response, the client MUST immediately discard its previous client secret and/or
// registration access token" — before anything is reported. If the store fails, the new
// credential goes to a recovery file (the old token may already be invalid) and the error
// names it.
func persistRotated(ctx context.Context, st keystore.Store, old keystore.Credential, reg *client.Registration, recoveryDir string) (keystore.Credential, error) {
	c, err := credentialFrom(old.Name, old.Issuer, old.Template, reg)
	if err != nil {
		return c, err
	}
	c.RefreshToken = old.RefreshToken
	if err := st.Put(ctx, c); err != nil {
		path, rerr := keystore.WriteRecovery(recoveryDir, c)
		if rerr != nil {
			return c, &storeError{fmt.Errorf("the server may have rotated the credential of %q, and neither the keystore (%w) nor a recovery file (%v) could keep it: fix the keystore, then run dcrctl get %s -o json --show-secrets (it may fail if the token rotated)", old.Name, err, rerr, old.Name)}
		}
		return c, &storeError{fmt.Errorf("could not store the credential of %q (%w); its current secrets were saved to %s (mode 0600): run dcrctl import %s once the keystore works, then delete the file", old.Name, err, path, path)}
	}
	return c, nil
}

// registrationView is what register, get, update and show print.
type registrationView struct {
	Name     string
	Issuer   string
	Keystore string
	Reg      *client.Registration
	Secrets  bool // print the client secret and registration access token
}

// writeRegistration prints v in the chosen format. Without Secrets, the client secret and
// the registration access token are left out, and a table says how to see them.
func writeRegistration(w io.Writer, format string, v registrationView) error {
	reg := *v.Reg
	hasSecret, hasToken := reg.ClientSecret != "", reg.RegistrationAccessToken != ""
	if !v.Secrets {
		reg = reg.WithoutSecrets()
	}
	switch format {
	case "json", "yaml":
		body, err := json.Marshal(reg)
		if err != nil {
			return err
		}
		head := map[string]string{"name": v.Name, "issuer": v.Issuer}
		var b bytes.Buffer
		b.WriteString("{")
		for _, k := range []string{"name", "issuer"} {
			if head[k] != "" {
				kb, _ := json.Marshal(k)
				vb, _ := json.Marshal(head[k])
				fmt.Fprintf(&b, "%s:%s,", kb, vb)
			}
		}
		b.Write(body[1:])
		if format == "json" {
			var out bytes.Buffer
			if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
				return err
			}
			out.WriteByte('\n')
			_, err := w.Write(out.Bytes())
			return err
		}
		return writeYAMLFromJSON(w, b.Bytes())
	case "env":
		vars := [][2]string{{"DCRCTL_NAME", v.Name}, {"DCRCTL_ISSUER", v.Issuer}, {"DCRCTL_CLIENT_ID", reg.ClientID},
			{"DCRCTL_REGISTRATION_CLIENT_URI", reg.RegistrationClientURI}}
		if v.Secrets {
			vars = append(vars, [2]string{"DCRCTL_CLIENT_SECRET", reg.ClientSecret}, [2]string{"DCRCTL_REGISTRATION_ACCESS_TOKEN", reg.RegistrationAccessToken})
		}
		for _, kv := range vars {
			if kv[1] != "" {
				if _, err := fmt.Fprintf(w, "%s=%s\n", kv[0], shellQuote(kv[1])); err != nil {
					return err
				}
			}
		}
		return nil
	}
	tw := &table{}
	tw.row("name", v.Name)
	tw.row("issuer", v.Issuer)
	tw.row("client_id", reg.ClientID)
	switch {
	case v.Secrets && hasSecret:
		tw.row("client_secret", reg.ClientSecret)
	case hasSecret:
		tw.row("client_secret", "(hidden: add --show-secrets)")
	default:
		tw.row("client_secret", "(none: a public client, or not returned by this call)")
	}
	if reg.ClientSecretExpiresAt != 0 {
		tw.row("secret expires", time.Unix(reg.ClientSecretExpiresAt, 0).UTC().Format(time.RFC3339))
	} else if hasSecret {
		tw.row("secret expires", "never")
	}
	if reg.ClientIDIssuedAt != 0 {
		tw.row("issued", time.Unix(reg.ClientIDIssuedAt, 0).UTC().Format(time.RFC3339))
	}
	tw.row("registration_client_uri", reg.RegistrationClientURI)
	switch {
	case v.Secrets && hasToken:
		tw.row("registration_access_token", reg.RegistrationAccessToken)
	case hasToken:
		tw.row("registration_access_token", "(hidden: add --show-secrets)")
	}
	tw.row("keystore", v.Keystore)
	md, err := json.Marshal(reg.Metadata)
	if err != nil {
		return err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(md, &members); err != nil {
		return err
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var s string
		if err := json.Unmarshal(members[k], &s); err != nil {
			s = string(members[k])
		}
		tw.row(k, s)
	}
	_, err = io.WriteString(w, tw.String())
	return err
}

// table lays out key/value rows in two aligned columns; empty values are skipped.
type table struct{ rows [][2]string }

func (t *table) row(k, v string) {
	if v != "" {
		t.rows = append(t.rows, [2]string{k, v})
	}
}

func (t *table) String() string {
	width := 0
	for _, r := range t.rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for _, r := range t.rows {
		fmt.Fprintf(&b, "%-*s  %s\n", width, r[0], r[1])
	}
	return b.String()
}

// writeYAMLFromJSON converts a JSON document to block-style YAML, keeping member order.
func writeYAMLFromJSON(w io.Writer, doc []byte) error {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return err
	}
	var unflow func(*yaml.Node)
	unflow = func(n *yaml.Node) {
		n.Style &^= yaml.FlowStyle
		if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle) != 0 {
			n.Style &^= yaml.DoubleQuotedStyle
		}
		for _, c := range n.Content {
			unflow(c)
		}
	}
	unflow(&n)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	return enc.Close()
}

// writeData prints v as JSON, YAML, or with table for the table format.
func writeData(w io.Writer, format string, v any, table func(io.Writer) error) error {
	switch format {
	case "json":
		return writeJSON(w, v)
	case "yaml":
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return writeYAMLFromJSON(w, b)
	}
	return table(w)
}

// readFileOrStdin reads FILE, or standard input for "-", through a size limit.
func readFileOrStdin(ios *IOStreams, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = ios.In
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("-f: %v: check the path", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > 1<<20 {
		return nil, usageErrorf("-f %s: larger than 1 MiB: is it the right file?", name)
	}
	return b, nil
}

// metadataEdits are -f, --set and --unset.
type metadataEdits struct {
	File  string
	Set   []string
	Unset []string
}

func (e metadataEdits) empty() bool { return e.File == "" && len(e.Set) == 0 && len(e.Unset) == 0 }

// apply merges the edits over base (a JSON object's members): the file's members first, then
// every --set (the value is JSON when it parses as JSON, else a string), then every --unset.
// It warns on ios when a secret is set on the command line.
func (e metadataEdits) apply(ios *IOStreams, base map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	if base == nil {
		base = map[string]json.RawMessage{}
	}
	if e.File != "" {
		b, err := readFileOrStdin(ios, e.File)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil || m == nil {
			return nil, usageErrorf("-f %s: not a JSON object of client metadata (%v): fix the file, e.g. {\"client_name\": \"Shop\", \"grant_types\": [\"client_credentials\"]}", e.File, err)
		}
		for k, v := range m {
			base[k] = v
		}
	}
	for _, s := range e.Set {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--set %q: use --set key=value, e.g. --set client_name=Shop or --set 'grant_types=[\"client_credentials\"]'", s)
		}
		if client.IsSecretMember(k) {
			warnSecretOnArgv(ios, "--set "+k, "put it in a file given with -f instead")
		}
		if json.Valid([]byte(v)) {
			base[k] = json.RawMessage(v)
		} else {
			q, _ := json.Marshal(v)
			base[k] = q
		}
	}
	for _, k := range e.Unset {
		if k == "" {
			return nil, usageErrorf("--unset needs a member name, e.g. --unset logo_uri")
		}
		delete(base, k)
	}
	return base, nil
}

// toMetadata decodes members into client.Metadata, which keeps unknown members in Extra.
func toMetadata(members map[string]json.RawMessage) (client.Metadata, error) {
	var md client.Metadata
	b, err := json.Marshal(members)
	if err != nil {
		return md, usageErrorf("client metadata: %v", err)
	}
	if err := json.Unmarshal(b, &md); err != nil {
		return md, usageErrorf("client metadata: %v: fix the value's type (e.g. grant_types is a JSON array)", err)
	}
	return md, nil
}

// membersOf returns md's members as a map.
func membersOf(md client.Metadata) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	m := map[string]json.RawMessage{}
	return m, json.Unmarshal(b, &m)
}
