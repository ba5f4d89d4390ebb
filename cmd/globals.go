package cmd

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcrctl/dcrctl/keystore"
)

// Keystore kinds the command line accepts. "none" keeps nothing (register only).
const (
	keystoreOS   = keystore.KindOS
	keystoreFile = keystore.KindFile
	keystoreNone = "none"
)

// settings is what setup decided from the flags, the environment and the profile.
type settings struct {
	done             bool
	ConfigDir        string // dcrctl's configuration directory (index, config.yaml, recovery)
	Profile          Profile
	KeystoreExplicit bool           // --keystore, DCRCTL_KEYSTORE or the profile named one
	RootCAs          *x509.CertPool // --ca-file's certificates plus the system roots; nil: system roots
	IssuerFlag       bool           // --issuer was given on the command line
	resourceIssuer   string         // the issuer --resource's metadata named (resource.go)
}

// configDir returns dcrctl's configuration directory: $DCRCTL_CONFIG_DIR, else
// os.UserConfigDir()/dcrctl.
func (g *GlobalOptions) configDir() (string, error) {
	if d := g.IO.getenv("DCRCTL_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (%v): set XDG_CONFIG_HOME, HOME or DCRCTL_CONFIG_DIR", err)
	}
	return filepath.Join(base, "dcrctl"), nil
}

// setup applies the profile and the environment to what the flags left empty. Precedence:
// flag, then environment variable, then profile, then default. It is idempotent.
func (g *GlobalOptions) setup() error {
	if g.settings.done {
		return nil
	}
	dir, err := g.configDir()
	if err != nil {
		return err
	}
	g.settings.ConfigDir = dir
	name, err := g.chooseProfile(dir)
	if err != nil {
		return err
	}
	p := g.settings.Profile
	if g.Issuer == "" {
		g.Issuer = g.IO.getenv("DCRCTL_ISSUER")
	}
	if g.Issuer == "" {
		g.Issuer = p.Issuer
	}
	if err := g.chooseKeystore(p); err != nil {
		return err
	}
	switch p.Flow {
	case "", "client-credentials", "login", "device", "token":
	default:
		return usageErrorf("profile %q: flow %q: use client-credentials, login, device or token", name, p.Flow)
	}
	if err := g.checkInputs(); err != nil {
		return err
	}
	g.settings.done = true
	return nil
}

// checkInputs refuses, before anything is sent or stored, global inputs that cannot work:
// an issuer without a scheme, an unreadable --ca-file, an --env-prefix that would set
// dcrctl's own inputs.
func (g *GlobalOptions) checkInputs() error {
	if g.Issuer != "" && !strings.Contains(g.Issuer, "://") {
		return usageErrorf("issuer %q has no scheme: use https://%s (or http://%s for a server on this machine)", g.Issuer, g.Issuer, g.Issuer)
	}
	if g.CAFile != "" {
		pool, err := loadCAFile(g.CAFile)
		if err != nil {
			return err
		}
		g.settings.RootCAs = pool
	}
	if g.EnvPrefix != "" {
		return checkEnvPrefix(g.EnvPrefix)
	}
	return nil
}

// requireIssuer returns the issuer or a usage error saying how to give one.
func (g *GlobalOptions) requireIssuer() (string, error) {
	if g.Issuer == "" {
		return "", usageErrorf("no issuer: give --issuer URL, set DCRCTL_ISSUER, or choose a profile with --profile")
	}
	return g.Issuer, nil
}

// warnSecretOnArgv is printed when a secret was given on the command line.
func warnSecretOnArgv(ios *IOStreams, what, instead string) {
	ios.warnf("%s on the command line is visible to other users (ps) and kept in shell history: %s", what, instead)
}
