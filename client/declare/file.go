package declare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
)

// File is a desired-state file: the registrations that should exist.
type File struct {
	// Entries are the registrations, in the order of the file.
	Entries []Entry
}

// Entry is one desired registration.
type Entry struct {
	// Name is the local name of the credential.
	Name string
	// Issuer is the authorization server's issuer; Profile names a profile of the caller's
	// configuration that gives it (and the token flow) instead. With neither, the caller's
	// default issuer holds. The caller resolves Profile and the default into Issuer before
	// planning.
	Issuer  string
	Profile string
	// Token says how to get the initial access token when the client must be registered.
	Token TokenSource
	// Template, when set, registers an instance of that template ({"software_id": Template}).
	Template string
	// Metadata is the client metadata (with Template: the members sent beside software_id),
	// member by member.
	Metadata map[string]json.RawMessage
	// Line is the entry's line in the file.
	Line int
}

// TokenSource says where the initial access token of a registration comes from. It names
// files and environment variables only, never a secret. The zero value means the profile's
// flow, else the caller's default (DCRCTL_TOKEN for dcrctl), else open registration.
type TokenSource struct {
	// Flow is client-credentials, login, device, token (TokenFile or TokenEnv) or none
	// (open registration); "" takes the profile's.
	Flow string `json:"flow,omitempty" yaml:"flow,omitempty"`
	// ClientID is the client that gets the token (a bootstrap client).
	ClientID string `json:"client_id,omitempty" yaml:"client_id,omitempty"`
	// ClientSecretFile and ClientSecretEnv name where that client's secret is.
	ClientSecretFile string `json:"client_secret_file,omitempty" yaml:"client_secret_file,omitempty"`
	ClientSecretEnv  string `json:"client_secret_env,omitempty" yaml:"client_secret_env,omitempty"`
	// AuthMethod is that client's token_endpoint_auth_method.
	AuthMethod string `json:"auth_method,omitempty" yaml:"auth_method,omitempty"`
	// TokenFile and TokenEnv name where an initial access token already is.
	TokenFile string `json:"token_file,omitempty" yaml:"token_file,omitempty"`
	TokenEnv  string `json:"token_env,omitempty" yaml:"token_env,omitempty"`
	// Scope is the scope of the token (default: the caller's, "dcr" for dcrctl).
	Scope string `json:"scope,omitempty" yaml:"scope,omitempty"`
}

// The flows a TokenSource may name.
const (
	FlowClientCredentials = "client-credentials"
	FlowLogin             = "login"
	FlowDevice            = "device"
	FlowToken             = "token"
	FlowNone              = "none"
)

// Desired returns the metadata the entry asks for, software_id included for a template.
func (e Entry) Desired() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(e.Metadata)+1)
	for k, v := range e.Metadata {
		out[k] = v
	}
	if e.Template != "" {
		out["software_id"], _ = json.Marshal(e.Template)
	}
	return out
}

// ClientMetadata returns Metadata as client.Metadata (without software_id for a template).
func (e Entry) ClientMetadata() (client.Metadata, error) {
	var md client.Metadata
	if len(e.Metadata) == 0 {
		return md, nil
	}
	b, err := json.Marshal(e.Metadata)
	if err != nil {
		return md, err
	}
	if err := json.Unmarshal(b, &md); err != nil {
		return md, fmt.Errorf("declare: %s: %w", e.Name, &metadataError{err})
	}
	return md, nil
}

// metadataError is metadata that client.Metadata cannot hold (a member of the wrong type).
type metadataError struct{ err error }

func (e *metadataError) Error() string {
	return fmt.Sprintf("does not fit RFC 7591 client metadata (%v): fix the member named", e.err)
}

// FileError is an error in a desired-state file, at a line.
type FileError struct {
	File string // the file's name, as the caller gave it
	Line int    // 0 when unknown
	Key  string // the key at fault, as a path (registrations.NAME.token.client_secret), or ""
	Msg  string
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// maxFileSize bounds a desired-state file.
const maxFileSize = 4 << 20

// Parse reads a desired-state file (YAML, or JSON, which is YAML too). name is used in
// errors. Errors are *FileError.
func Parse(name string, data []byte) (*File, error) {
	p := parser{file: name}
	if len(data) > maxFileSize {
		return nil, p.errf(0, "", "the file is larger than %d bytes", maxFileSize)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, p.errf(0, "", "not YAML or JSON: %v", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, p.errf(doc.Line, "", "the file must be a mapping with the key registrations")
	}
	return p.root(doc.Content[0])
}

// parser walks the YAML nodes of a file.
type parser struct{ file string }

func (p parser) errf(line int, key, format string, args ...any) error {
	return &FileError{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// pairs returns the key and value nodes of a mapping, refusing duplicate keys.
func (p parser) pairs(n *yaml.Node, path string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n.Line, path, "must be a mapping")
	}
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if seen[k.Value] {
			return nil, p.errf(k.Line, join(path, k.Value), "given twice")
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (p parser) root(n *yaml.Node) (*File, error) {
	kv, err := p.pairs(n, "")
	if err != nil {
		return nil, err
	}
	f := &File{}
	found := false
	for _, x := range kv {
		switch x[0].Value {
		case "$schema":
		case "registrations":
			found = true
			if f.Entries, err = p.registrations(x[1]); err != nil {
				return nil, err
			}
		default:
			return nil, p.errf(x[0].Line, x[0].Value, "unknown key: the file has registrations (and optionally $schema)")
		}
	}
	if !found {
		return nil, p.errf(n.Line, "registrations", "missing: list the registrations under it, by name")
	}
	return f, nil
}

func (p parser) registrations(n *yaml.Node) ([]Entry, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	kv, err := p.pairs(n, "registrations")
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, x := range kv {
		e, err := p.entry(x[0], x[1])
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// scalar returns the string value of a scalar node.
func (p parser) scalar(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return "", p.errf(n.Line, path, "must be a string")
	}
	return n.Value, nil
}

func (p parser) entry(k, n *yaml.Node) (Entry, error) {
	path := "registrations." + k.Value
	e := Entry{Name: k.Value, Line: k.Line}
	if !registrar.ValidName(e.Name) {
		return e, p.errf(k.Line, path, "not a credential name: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit")
	}
	kv, err := p.pairs(n, path)
	if err != nil {
		return e, err
	}
	for _, x := range kv {
		key, kp := x[0].Value, join(path, x[0].Value)
		switch key {
		case "issuer":
			e.Issuer, err = p.scalar(x[1], kp)
		case "profile":
			e.Profile, err = p.scalar(x[1], kp)
		case "template":
			e.Template, err = p.scalar(x[1], kp)
		case "token":
			e.Token, err = p.token(x[1], kp)
		case "metadata":
			e.Metadata, err = p.metadata(x[1], kp)
		default:
			if client.IsSecretMember(key) {
				return e, p.errf(x[0].Line, kp, "a secret is never written in this file: give token.token_file or token.token_env (an initial access token), or token.client_secret_file or token.client_secret_env")
			}
			return e, p.errf(x[0].Line, kp, "unknown key: use issuer, profile, token, template or metadata")
		}
		if err != nil {
			return e, err
		}
	}
	return e, p.checkEntry(e, path)
}

func (p parser) checkEntry(e Entry, path string) error {
	switch {
	case e.Issuer != "" && !strings.Contains(e.Issuer, "://"):
		return p.errf(e.Line, path+".issuer", "%q has no scheme: use https://%s (or http:// for a server on this machine)", e.Issuer, e.Issuer)
	case e.Template == "" && len(e.Metadata) == 0:
		return p.errf(e.Line, path, "nothing to register: give template ID or metadata")
	}
	if sid, ok := e.Metadata["software_id"]; ok && e.Template != "" {
		var s string
		if json.Unmarshal(sid, &s) != nil || s != e.Template {
			return p.errf(e.Line, path+".metadata.software_id", "differs from template %q: give one of them", e.Template)
		}
		delete(e.Metadata, "software_id")
	}
	if _, err := e.ClientMetadata(); err != nil {
		var me *metadataError
		errors.As(err, &me)
		return p.errf(e.Line, path+".metadata", "%v", me)
	}
	return nil
}

// tokenKeys are the keys of a token block, each a string.
var tokenKeys = map[string]func(*TokenSource) *string{
	"flow":               func(t *TokenSource) *string { return &t.Flow },
	"client_id":          func(t *TokenSource) *string { return &t.ClientID },
	"client_secret_file": func(t *TokenSource) *string { return &t.ClientSecretFile },
	"client_secret_env":  func(t *TokenSource) *string { return &t.ClientSecretEnv },
	"auth_method":        func(t *TokenSource) *string { return &t.AuthMethod },
	"token_file":         func(t *TokenSource) *string { return &t.TokenFile },
	"token_env":          func(t *TokenSource) *string { return &t.TokenEnv },
	"scope":              func(t *TokenSource) *string { return &t.Scope },
}

func (p parser) token(n *yaml.Node, path string) (TokenSource, error) {
	var t TokenSource
	kv, err := p.pairs(n, path)
	if err != nil {
		return t, err
	}
	for _, x := range kv {
		key, kp := x[0].Value, join(path, x[0].Value)
		field, ok := tokenKeys[key]
		if !ok {
			if client.IsSecretMember(key) {
				return t, p.errf(x[0].Line, kp, "a secret is never written in this file: name a file (client_secret_file, token_file) or an environment variable (client_secret_env, token_env) that holds it")
			}
			return t, p.errf(x[0].Line, kp, "unknown key: use %s", strings.Join(sortedKeys(tokenKeys), ", "))
		}
		if *field(&t), err = p.scalar(x[1], kp); err != nil {
			return t, err
		}
	}
	return t, p.checkToken(t, n.Line, path)
}

func (p parser) checkToken(t TokenSource, line int, path string) error {
	grant := t.ClientID != "" || t.ClientSecretFile != "" || t.ClientSecretEnv != "" || t.AuthMethod != ""
	given := t.TokenFile != "" || t.TokenEnv != ""
	switch t.Flow {
	case "", FlowClientCredentials, FlowLogin, FlowDevice, FlowToken, FlowNone:
	default:
		return p.errf(line, path+".flow", "%q: use client-credentials, login, device, token or none", t.Flow)
	}
	switch {
	case t.TokenFile != "" && t.TokenEnv != "":
		return p.errf(line, path, "token_file and token_env: give one")
	case t.ClientSecretFile != "" && t.ClientSecretEnv != "":
		return p.errf(line, path, "client_secret_file and client_secret_env: give one")
	case given && grant:
		return p.errf(line, path, "token_file/token_env give a token; client_id, client_secret_* and auth_method get one: give one kind")
	case given && t.Flow != "" && t.Flow != FlowToken:
		return p.errf(line, path, "token_file/token_env with flow %s: drop the flow, or use flow token", t.Flow)
	case t.Flow == FlowToken && !given:
		return p.errf(line, path, "flow token needs token_file or token_env")
	case t.Flow == FlowNone && (given || grant):
		return p.errf(line, path, "flow none (open registration) takes no other keys")
	}
	return nil
}

// metadata decodes a metadata mapping into JSON members, refusing secrets and the members
// the server issues.
func (p parser) metadata(n *yaml.Node, path string) (map[string]json.RawMessage, error) {
	kv, err := p.pairs(n, path)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for _, x := range kv {
		key, kp := x[0].Value, join(path, x[0].Value)
		if issuedMembers[key] {
			return nil, p.errf(x[0].Line, kp, "issued by the server, not requested: remove it")
		}
		if err := p.noSecrets(x[0], x[1], kp); err != nil {
			return nil, err
		}
		var v any
		if err := x[1].Decode(&v); err != nil {
			return nil, p.errf(x[1].Line, kp, "%v", err)
		}
		b, err := json.Marshal(jsonable(v))
		if err != nil {
			return nil, p.errf(x[1].Line, kp, "cannot be written as JSON: %v", err)
		}
		if string(b) == "null" {
			continue // null is absent (client.Metadata)
		}
		out[key] = b
	}
	return out, nil
}

// issuedMembers are the members of a client information response that the server issues
// (RFC 7591 §3.2.1, RFC 7592 §3): a request does not carry them.
var issuedMembers = map[string]bool{"client_id": true, "client_secret": true, "client_id_issued_at": true,
	"client_secret_expires_at": true, "registration_access_token": true, "registration_client_uri": true}

// noSecrets refuses a member, at any depth, whose name says it holds a secret
// (client.IsSecretMember), and the private members of a JWK.
func (p parser) noSecrets(k, v *yaml.Node, path string) error {
	if client.IsSecretMember(k.Value) {
		return p.errf(k.Line, path, "a secret is never written in this file: register it another way (dcrctl register), or leave it out")
	}
	if v.Kind != yaml.MappingNode && v.Kind != yaml.SequenceNode {
		return nil
	}
	jwk := false
	for i := 0; i+1 < len(v.Content) && v.Kind == yaml.MappingNode; i += 2 {
		jwk = jwk || v.Content[i].Value == "kty"
	}
	for i := 0; i < len(v.Content); i++ {
		if v.Kind == yaml.SequenceNode {
			if err := p.noSecrets(&yaml.Node{}, v.Content[i], fmt.Sprintf("%s.%d", path, i)); err != nil {
				return err
			}
			continue
		}
		ck, cv := v.Content[i], v.Content[i+1]
		i++
		if jwk && privateJWKMembers[ck.Value] {
			return p.errf(ck.Line, join(path, ck.Value), "a private key member of a JWK: publish only the public key (or use jwks_uri)")
		}
		if err := p.noSecrets(ck, cv, join(path, ck.Value)); err != nil {
			return err
		}
	}
	return nil
}

// privateJWKMembers are the members of a JWK that hold private or symmetric key material
// (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
var privateJWKMembers = map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "oth": true, "k": true}

// jsonable turns what yaml.v3 decodes into values encoding/json can write (maps with
// non-string keys are not among them).
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
