package declare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
)

// Apply carries out every step of p, in order, and records each outcome in it. It goes on
// past a failing step; when ctx ends, the remaining steps are skipped. Each step re-checks
// under the credential's lock what it is about to change, so that a plan made before
// another process applied the same file writes nothing twice: an update whose diff has
// become empty sends nothing and is unchanged, a create whose name has been taken meanwhile
// is planned and applied again as an update of what is now stored.
func (en *Engine) Apply(ctx context.Context, p *Plan) {
	for i := range p.Steps {
		s := &p.Steps[i]
		if ctx.Err() != nil {
			s.Result, s.Err, s.Error = ResultSkipped, ctx.Err(), "not carried out: "+ctx.Err().Error()
			continue
		}
		en.applyStep(ctx, s)
	}
}

func (en *Engine) applyStep(ctx context.Context, s *Step) {
	if s.Result == ResultFailed {
		return // could not be planned: the error stands
	}
	if s.Blocked != "" {
		s.fail(fmt.Errorf("declare: %s: %w: %s", s.Name, errBlocked, s.Blocked))
		return
	}
	switch s.Action {
	case ActionUnchanged:
		s.Result = ResultUnchanged
	case ActionCreate:
		en.create(ctx, s)
	case ActionUpdate:
		en.update(ctx, s)
	case ActionDelete:
		if _, err := en.Registrar.Delete(ctx, s.Name); err != nil {
			s.fail(err)
			return
		}
		s.Result = ResultDeleted
	}
}

// create registers the entry and stores the credential (registrar.Register).
func (en *Engine) create(ctx context.Context, s *Step) {
	e := *s.Entry
	md, err := e.ClientMetadata()
	if err != nil {
		s.fail(err)
		return
	}
	// Before a (maybe single-use) initial access token is fetched: the name must be free
	// and the store writable.
	if err := en.Registrar.Check(ctx, e.Name); err != nil {
		en.taken(ctx, s, err)
		return
	}
	meta, err := en.discover(ctx, e)
	if err != nil {
		s.fail(err)
		return
	}
	if meta.RegistrationEndpoint == "" {
		s.fail(fmt.Errorf("declare: %s: %s advertises no registration_endpoint: registration is off there, or its discovery leaves it out", e.Name, e.Issuer))
		return
	}
	token, err := en.Token(ctx, e, meta)
	if err != nil {
		s.fail(err)
		return
	}
	res, err := en.Registrar.Register(ctx, registrar.RegisterRequest{Name: e.Name, Issuer: e.Issuer, Endpoint: meta.RegistrationEndpoint,
		InitialAccessToken: token, Template: e.Template, Metadata: md})
	if res != nil {
		s.ClientID, s.NotKept = res.Registration.ClientID, res.Changes
	}
	switch {
	case err != nil && res == nil:
		en.taken(ctx, s, err)
	case err != nil:
		s.fail(err)
	default:
		s.Result = ResultCreated
	}
}

// taken handles a create whose name was taken since the plan (another apply registered it):
// the entry is planned again and, once, applied as what it is now.
func (en *Engine) taken(ctx context.Context, s *Step, err error) {
	var nt *registrar.NameTakenError
	if !errors.As(err, &nt) || s.Entry == nil {
		s.fail(err)
		return
	}
	stored, lerr := en.stored(ctx)
	if lerr != nil {
		s.fail(lerr)
		return
	}
	again := en.planEntry(ctx, s.Entry, stored)
	if again.Action == ActionCreate { // gone again: do not loop
		s.fail(err)
		return
	}
	*s = again
	en.applyStep(ctx, s)
}

// update sends the entry's metadata as the full replacement (registrar.Update), unless,
// read again under the credential's lock, the registration no longer differs.
func (en *Engine) update(ctx context.Context, s *Step) {
	e := *s.Entry
	md, err := e.ClientMetadata()
	if err != nil {
		s.fail(err)
		return
	}
	if e.Template != "" {
		md.SoftwareID = e.Template
	}
	errNoChange := errors.New("no change")
	res, err := en.Registrar.Update(ctx, e.Name, func(cur client.Metadata) (client.Metadata, error) {
		// Under the lock: what another apply sent meanwhile is in the stored record.
		cred, _, lerr := en.Registrar.Load(ctx, e.Name)
		if lerr != nil {
			return cur, lerr
		}
		again := Step{Name: s.Name}
		en.compareStep(&again, e, cred, cur)
		s.Diff, s.NotKept = again.Diff, again.NotKept
		if again.Action == ActionUnchanged {
			return cur, errNoChange
		}
		return keepSecretMembers(md, cur), nil
	})
	switch {
	case errors.Is(err, errNoChange):
		s.Action, s.Result = ActionUnchanged, ResultUnchanged
	case err != nil:
		s.fail(err)
	default:
		s.Result, s.ClientID, s.NotKept = ResultUpdated, res.Registration.ClientID, res.Changes
	}
}

// keepSecretMembers returns md plus the secret members of cur that md lacks (a vendor
// webhook secret set with dcrctl register, say): a file cannot name them, so the full
// replacement of an update must not drop them.
func keepSecretMembers(md, cur client.Metadata) client.Metadata {
	have, now := membersOf(md), membersOf(cur)
	added := false
	for k, v := range now {
		if _, ok := have[k]; !ok && client.IsSecretMember(k) {
			have[k], added = v, true
		}
	}
	if !added {
		return md
	}
	var out client.Metadata
	if b, err := json.Marshal(have); err == nil && json.Unmarshal(b, &out) == nil {
		return out
	}
	return md
}

// discover returns the server metadata of e's server, discovered once per issuer and
// profile in an Engine's life.
func (en *Engine) discover(ctx context.Context, e Entry) (*client.ServerMetadata, error) {
	key := issuerKey(e.Issuer) + " " + e.Profile
	en.mu.Lock()
	md := en.discovered[key]
	en.mu.Unlock()
	if md != nil {
		return md, nil
	}
	md, err := en.Discover(ctx, e)
	if err != nil {
		return nil, err
	}
	en.mu.Lock()
	if en.discovered == nil {
		en.discovered = map[string]*client.ServerMetadata{}
	}
	en.discovered[key] = md
	en.mu.Unlock()
	return md, nil
}
