package declare

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// The actions of a Step.
const (
	ActionCreate    = "create"    // register the client (RFC 7591)
	ActionUpdate    = "update"    // replace its metadata (RFC 7592 §2.2)
	ActionUnchanged = "unchanged" // nothing to do
	ActionDelete    = "delete"    // deregister it (RFC 7592 §2.3) and forget the credential
	ActionUnknown   = "unknown"   // the entry could not be planned (Error says why)
)

// The results of a Step.
const (
	ResultPlanned   = "planned"   // Plan: a change is needed
	ResultNone      = "none"      // Plan: no change is needed
	ResultCreated   = "created"   // Apply
	ResultUpdated   = "updated"   // Apply
	ResultDeleted   = "deleted"   // Apply
	ResultUnchanged = "unchanged" // Apply: nothing was sent
	ResultFailed    = "failed"    // Plan or Apply: Error says why
	ResultSkipped   = "skipped"   // Apply: not carried out (the context ended first)
)

// Step is the plan, and after Apply the outcome, for one name.
type Step struct {
	Name   string `json:"name"`
	Issuer string `json:"issuer"`
	Action string `json:"action"`
	Result string `json:"result"`
	// Diff lists the members to change (update), secret values left out; empty otherwise.
	Diff []MemberDiff `json:"diff"`
	// NotKept lists members the server does not keep as they are asked for: not a change,
	// since sending them again would not help.
	NotKept []registrar.Change `json:"not_kept,omitempty"`
	// Blocked says why the action cannot be carried out (a server without RFC 7592).
	Blocked string `json:"blocked,omitempty"`
	// ClientID is the client's identifier, when known.
	ClientID string `json:"client_id,omitempty"`
	// Error says why the step failed.
	Error string `json:"error,omitempty"`

	// Err is the error behind Error.
	Err error `json:"-"`
	// Entry is the file's entry (nil for a delete).
	Entry *Entry `json:"-"`
}

// Changes reports whether the step needs a change.
func (s Step) Changes() bool { return s.Action != ActionUnchanged }

func (s *Step) fail(err error) {
	s.Result, s.Err, s.Error = ResultFailed, err, client.RedactError(err)
}

// Plan is a list of steps, entries first (in file order), then deletes (by name).
type Plan struct {
	Steps []Step
}

// Changes counts the steps that need a change (failed ones included).
func (p *Plan) Changes() int {
	n := 0
	for _, s := range p.Steps {
		if s.Changes() {
			n++
		}
	}
	return n
}

// Failed counts the failed steps.
func (p *Plan) Failed() int {
	n := 0
	for _, s := range p.Steps {
		if s.Result == ResultFailed {
			n++
		}
	}
	return n
}

// Engine plans and applies desired-state files.
type Engine struct {
	// Registrar performs every server call on a credential and stores what comes back.
	Registrar *registrar.Registrar
	// Discover returns the metadata of the entry's server (for a registration). The caller
	// applies its explicit endpoints here.
	Discover func(ctx context.Context, e Entry) (*client.ServerMetadata, error)
	// Token returns the initial access token for a registration of e ("" for open
	// registration), from e.Token.
	Token func(ctx context.Context, e Entry, md *client.ServerMetadata) (string, error)

	mu         sync.Mutex
	discovered map[string]*client.ServerMetadata // by issuer and profile
}

// Plan compares the entries with what is stored and with the servers' current
// registrations. It sends no write: it reads registrations (RFC 7592 §2.1) through the
// registrar, which stores what a read-rotating server returns. With prune, stored
// credentials of the entries' issuers that no entry names are planned for deletion. Every
// entry must have its Issuer; an error is returned only when the store cannot be listed or
// the entries are unusable, a failing entry is a failed step.
func (en *Engine) Plan(ctx context.Context, entries []Entry, prune bool) (*Plan, error) {
	stored, err := en.stored(ctx)
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	names := map[string]bool{}
	issuers := map[string]bool{}
	for i := range entries {
		e := entries[i]
		if e.Issuer == "" {
			return nil, fmt.Errorf("declare: %s: no issuer (profile %q gives none)", e.Name, e.Profile)
		}
		if names[e.Name] {
			return nil, fmt.Errorf("declare: %s is listed twice", e.Name)
		}
		names[e.Name], issuers[issuerKey(e.Issuer)] = true, true
		p.Steps = append(p.Steps, en.planEntry(ctx, &e, stored))
	}
	if prune {
		p.Steps = append(p.Steps, deletes(stored, names, issuers)...)
	}
	return p, nil
}

// stored lists the store by name.
func (en *Engine) stored(ctx context.Context) (map[string]keystore.Credential, error) {
	list, err := en.Registrar.Store().List(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]keystore.Credential, len(list))
	for _, c := range list {
		m[c.Name] = c
	}
	return m, nil
}

// issuerKey is the issuer as compared: without a trailing slash (a server may publish
// either form).
func issuerKey(iss string) string { return strings.TrimRight(iss, "/") }

// planEntry plans one entry.
func (en *Engine) planEntry(ctx context.Context, e *Entry, stored map[string]keystore.Credential) Step {
	s := Step{Name: e.Name, Issuer: e.Issuer, Entry: e, Diff: []MemberDiff{}}
	c, ok := stored[e.Name]
	if !ok {
		s.Action, s.Result = ActionCreate, ResultPlanned
		return s
	}
	s.ClientID = c.ClientID
	if issuerKey(c.Issuer) != issuerKey(e.Issuer) {
		s.Action = ActionUnknown
		s.fail(fmt.Errorf("declare: %s: the stored credential of that name is a client of %s, not %s: rename the entry, or remove the stored credential", e.Name, c.Issuer, e.Issuer))
		return s
	}
	cred, cur, err := en.current(ctx, c)
	if err != nil {
		s.Action = ActionUnknown
		s.fail(err)
		return s
	}
	en.compareStep(&s, *e, cred, cur)
	return s
}

// current returns the credential and the registration's current metadata: read from the
// server with RFC 7592 (and stored), or, for a client without management, as stored.
func (en *Engine) current(ctx context.Context, c keystore.Credential) (keystore.Credential, client.Metadata, error) {
	if !managed(c) {
		cred, reg, err := en.Registrar.Load(ctx, c.Name)
		if err != nil {
			return cred, client.Metadata{}, err
		}
		return cred, reg.Metadata, nil
	}
	res, err := en.Registrar.Read(ctx, c.Name)
	if res == nil {
		return c, client.Metadata{}, err
	}
	return res.Credential, res.Registration.Metadata, err
}

// compareStep fills in the action, diff and blocks of s from the desired entry and the
// current registration.
func (en *Engine) compareStep(s *Step, e Entry, cred keystore.Credential, cur client.Metadata) {
	var last *registrar.LastRequest
	if lr, ok := registrar.LastRequestOf(cred); ok {
		last = &lr
	}
	s.Diff, s.NotKept = compare(e.Desired(), membersOf(cur), last)
	if s.Diff == nil {
		s.Diff = []MemberDiff{}
	}
	if len(s.Diff) == 0 {
		s.Action, s.Result = ActionUnchanged, ResultNone
		return
	}
	s.Action, s.Result = ActionUpdate, ResultPlanned
	switch {
	case !managed(cred):
		s.Blocked = "the server offers no RFC 7592 management for this client (it issued no registration_client_uri): it can be created, never updated; to change it, remove the stored credential and register it again"
	case cred.Template != "" && e.Template != "" && cred.Template != e.Template:
		s.Blocked = fmt.Sprintf("the client is an instance of template %q; an instance cannot change template: delete it and apply again to register an instance of %q", cred.Template, e.Template)
	}
}

// managed reports whether the credential can be read, updated and deleted (RFC 7592).
func managed(c keystore.Credential) bool { return c.RegistrationClientURI != "" }

// deletes plans the deletion of stored credentials of issuers that are not named.
func deletes(stored map[string]keystore.Credential, names, issuers map[string]bool) []Step {
	var out []Step
	for _, c := range stored {
		if names[c.Name] || !issuers[issuerKey(c.Issuer)] {
			continue
		}
		s := Step{Name: c.Name, Issuer: c.Issuer, Action: ActionDelete, Result: ResultPlanned, ClientID: c.ClientID, Diff: []MemberDiff{}}
		if !managed(c) {
			s.Blocked = "the server offers no RFC 7592 management for this client: it cannot be deleted there; remove the stored credential only (dcrctl forget)"
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// errBlocked is the error of a step that cannot be carried out.
var errBlocked = errors.New("blocked")
