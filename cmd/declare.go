package cmd

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/declare"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
)

// declareOptions are the inputs plan and apply share: the desired-state file and --prune.
type declareOptions struct {
	G     *GlobalOptions
	File  string
	Prune bool

	// Store, when set, replaces the keystore chosen by --keystore (tests).
	Store keystore.Store
	// OpenURL replaces the system browser for entries whose flow is login (tests).
	OpenURL func(string) error

	profiles map[string]Profile // of the config file, for entries that name one
}

// load reads and parses the file and gives every entry its issuer (from its profile).
func (o *declareOptions) load() ([]declare.Entry, error) {
	if o.File == "" {
		return nil, usageErrorf("no file: give -f FILE (dcrctl apply --explain shows the format)")
	}
	var data []byte
	var err error
	if o.File == "-" {
		data, err = io.ReadAll(io.LimitReader(o.G.IO.In, 4<<20+1))
	} else {
		data, err = os.ReadFile(o.File)
	}
	if err != nil {
		return nil, usageErrorf("-f %s: %v", o.File, err)
	}
	f, err := declare.Parse(o.File, data)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	cfg, path, err := loadConfigFile(o.G.settings.ConfigDir)
	if err != nil {
		return nil, err
	}
	o.profiles = cfg.Profiles
	for i, e := range f.Entries {
		if e.Profile == "" && e.Issuer == "" {
			if f.Entries[i].Issuer = o.G.Issuer; o.G.Issuer == "" {
				return nil, usageErrorf("%s:%d: registrations.%s: no issuer: give issuer URL or profile NAME in the entry, or --issuer URL for every entry without one", o.File, e.Line, e.Name)
			}
			f.Entries[i].Profile = o.G.Profile
		}
		if e.Profile == "" {
			continue
		}
		p, ok := cfg.Profiles[e.Profile]
		if !ok {
			return nil, usageErrorf("%s:%d: registrations.%s.profile: no profile %q in %s", o.File, e.Line, e.Name, e.Profile, path)
		}
		if e.Issuer == "" {
			f.Entries[i].Issuer = p.Issuer
		}
		if f.Entries[i].Issuer == "" {
			return nil, usageErrorf("%s:%d: registrations.%s: profile %q has no issuer: give issuer URL in the entry", o.File, e.Line, e.Name, e.Profile)
		}
	}
	return f.Entries, nil
}

// engine joins the registrar of the chosen keystore with discovery and the initial token
// of each entry.
func (o *declareOptions) engine() (*declare.Engine, error) {
	st := o.Store
	if st == nil {
		var err error
		if st, err = o.G.openStore(); err != nil {
			return nil, err
		}
	}
	return &declare.Engine{
		Registrar: o.G.registrar(st),
		Discover: func(ctx context.Context, e declare.Entry) (*client.ServerMetadata, error) {
			return o.globals(e).serverMetadata(ctx)
		},
		Token: o.token,
	}, nil
}

// globals returns a copy of the global options as they hold for entry e: its issuer and
// profile. Explicit endpoints of the command line hold for entries of the --issuer only.
func (o *declareOptions) globals(e declare.Entry) *GlobalOptions {
	g := *o.G // the command's step tracking is shared by copies (root.go)
	if strings.TrimRight(g.Issuer, "/") != strings.TrimRight(e.Issuer, "/") {
		g.Endpoints = client.Endpoints{}
	}
	g.Issuer, g.Profile, g.settings.Profile = e.Issuer, e.Profile, o.profiles[e.Profile]
	return &g
}

// token gets the initial access token of a registration of e, the way register does
// (initialTokenOptions), from the entry's token source.
func (o *declareOptions) token(ctx context.Context, e declare.Entry, meta *client.ServerMetadata) (string, error) {
	ts := e.Token
	if ts.Flow == declare.FlowNone {
		return "", nil
	}
	t := initialTokenOptions{TokenFile: o.path(ts.TokenFile), TokenEnv: ts.TokenEnv, grantOptions: grantOptions{
		ClientID: ts.ClientID, ClientSecretFile: o.path(ts.ClientSecretFile), ClientSecretEnv: ts.ClientSecretEnv,
		AuthMethod: ts.AuthMethod, Scopes: []string{"dcr"}, LoginTimeout: flows.DefaultLoginTimeout, OpenURL: o.OpenURL}}
	if ts.Scope != "" {
		t.Scopes = []string{ts.Scope}
	}
	g, flow := o.globals(e), ts.Flow
	if flow == "" && (ts.ClientID != "" || ts.ClientSecretFile != "" || ts.ClientSecretEnv != "") && g.settings.Profile.Flow == "" {
		flow = declare.FlowClientCredentials
	}
	t.ClientCredentials, t.Login, t.Device = flow == declare.FlowClientCredentials, flow == declare.FlowLogin, flow == declare.FlowDevice
	return t.get(ctx, g, e.Issuer, meta)
}

// path resolves a path of the file: "~/" is the home directory, a relative path is
// relative to the file's directory.
func (o *declareOptions) path(p string) string {
	if p == "" || p == "-" {
		return p
	}
	p = expandHome(o.G.IO, p)
	if filepath.IsAbs(p) || o.File == "-" {
		return p
	}
	return filepath.Join(filepath.Dir(o.File), p)
}

// plan loads the file and plans it against the servers and the keystore.
func (o *declareOptions) plan(ctx context.Context) (*declare.Engine, *declare.Plan, error) {
	entries, err := o.load()
	if err != nil {
		return nil, nil, err
	}
	en, err := o.engine()
	if err != nil {
		return nil, nil, err
	}
	p, err := en.Plan(ctx, entries, o.Prune)
	return en, p, err
}
