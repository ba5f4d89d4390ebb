package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Profile is one named profile of the config file
// (os.UserConfigDir()/dcrctl/config.yaml, or $DCRCTL_CONFIG_DIR/config.yaml):
//
//	default_profile: local
//	profiles:
//	  local:
//	    issuer: http://127.0.0.1:8414
//	    client_id: bootstrap
//	    client_secret_file: ~/.config/dcrctl/bootstrap.secret
//	    flow: client-credentials
//	    keystore: file
//
// It never holds a secret itself: only the path of a file that does.
type Profile struct {
	Issuer           string `yaml:"issuer"`
	ClientID         string `yaml:"client_id"`          // bootstrap client for the initial access token
	ClientSecretFile string `yaml:"client_secret_file"` // where that client's secret is kept
	Flow             string `yaml:"flow"`               // client-credentials, login, device or token
	Keystore         string `yaml:"keystore"`           // os, file or none
	// Explicit endpoints, for a server whose discovery lacks them (endpoints.go).
	RegistrationEndpoint        string `yaml:"registration_endpoint"`
	TokenEndpoint               string `yaml:"token_endpoint"`
	AuthorizationEndpoint       string `yaml:"authorization_endpoint"`
	DeviceAuthorizationEndpoint string `yaml:"device_authorization_endpoint"`
}

// configFile is the YAML config file.
type configFile struct {
	DefaultProfile string             `yaml:"default_profile"`
	Profiles       map[string]Profile `yaml:"profiles"`
}

// loadConfigFile reads dir/config.yaml; a missing file is an empty config.
func loadConfigFile(dir string) (configFile, string, error) {
	path := filepath.Join(dir, "config.yaml")
	var cfg configFile
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, path, nil
	}
	if err != nil {
		return cfg, path, fmt.Errorf("config file: %w: check its permissions", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(io.LimitReader(f, 1<<20))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, path, usageErrorf("config file %s: %v: fix it (keys: default_profile, profiles.NAME.{issuer, client_id, client_secret_file, flow, keystore, registration_endpoint, token_endpoint, authorization_endpoint, device_authorization_endpoint})", path, err)
	}
	return cfg, path, nil
}

// chooseProfile reads the config file in dir and applies the profile named by --profile,
// DCRCTL_PROFILE or default_profile; it returns its name ("" for none).
func (g *GlobalOptions) chooseProfile(dir string) (string, error) {
	name := g.Profile
	if name == "" {
		name = g.IO.getenv("DCRCTL_PROFILE")
	}
	cfg, path, err := loadConfigFile(dir)
	if err != nil {
		return "", err
	}
	if name == "" {
		name = cfg.DefaultProfile
	}
	if name != "" {
		p, ok := cfg.Profiles[name]
		if !ok {
			names := make([]string, 0, len(cfg.Profiles))
			for n := range cfg.Profiles {
				names = append(names, n)
			}
			sort.Strings(names)
			if len(names) == 0 {
				return "", usageErrorf("no profile %q: %s defines no profiles; add one under profiles:, or drop --profile", name, path)
			}
			return "", usageErrorf("no profile %q in %s: use one of %s", name, path, strings.Join(names, ", "))
		}
		g.settings.Profile = p
		g.Profile = name
	}
	return name, nil
}

// chooseKeystore applies --keystore, DCRCTL_KEYSTORE or the profile's keystore.
func (g *GlobalOptions) chooseKeystore(p Profile) error {
	g.settings.KeystoreExplicit = true
	switch env := g.IO.getenv("DCRCTL_KEYSTORE"); {
	case g.Keystore != "":
	case env != "":
		g.Keystore = env
	case p.Keystore != "":
		g.Keystore = p.Keystore
	default:
		g.Keystore = keystoreOS
		g.settings.KeystoreExplicit = false
	}
	switch g.Keystore {
	case keystoreOS, keystoreFile, keystoreNone:
	default:
		return usageErrorf("unknown keystore %q: use --keystore os (the OS keyring), file (a plaintext file, insecure) or none", g.Keystore)
	}
	switch g.Keystore {
	case keystoreOS, keystoreFile, keystoreNone:
	default:
		return usageErrorf("unknown keystore %q: use --keystore os (the OS keyring), file (a plaintext file, insecure) or none", g.Keystore)
	}
	return nil
}
