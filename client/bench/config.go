package bench

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/client"
)

// Step is one request of an installation's sequence.
type Step string

// The steps, in the order an installation plays them.
const (
	StepToken    Step = "token"    // initial access token: client credentials, scope dcr
	StepRegister Step = "register" // RFC 7591 registration
	StepLogin    Step = "login"    // client credentials token as the new instance
	StepRead     Step = "read"     // RFC 7592 read
	StepDelete   Step = "delete"   // RFC 7592 delete
)

// AllSteps is the full sequence, in order.
var AllSteps = []Step{StepToken, StepRegister, StepLogin, StepRead, StepDelete}

// ParseSteps parses a comma-separated list of step names ("token,register,login") into
// the order of AllSteps. Unknown and repeated names are errors.
func ParseSteps(s string) ([]Step, error) {
	var out []Step
	for _, f := range strings.Split(s, ",") {
		st := Step(strings.TrimSpace(f))
		if !slices.Contains(AllSteps, st) {
			return nil, fmt.Errorf("bench: unknown step %q: the steps are token, register, login, read and delete", st)
		}
		if slices.Contains(out, st) {
			return nil, fmt.Errorf("bench: step %q given twice", st)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Step) int { return slices.Index(AllSteps, a) - slices.Index(AllSteps, b) })
	return out, nil
}

// Config describes a run. Issuer, Steps and at least one bound (Installs, Duration,
// MaxRequests) are required.
type Config struct {
	// Issuer is the authorization server; its endpoints are discovered (RFC 8414).
	Issuer string
	// Steps each installation plays, in the order of AllSteps.
	Steps []Step

	// ClientID, ClientSecret and AuthMethod are the client whose client credentials grant
	// gives each installation its initial access token (the token step); Scopes default
	// to ["dcr"].
	ClientID     string
	ClientSecret string
	AuthMethod   string
	Scopes       []string
	// InitialToken is one reusable initial access token for every registration, used when
	// Steps has no token step ("" with neither: open registration).
	InitialToken string

	// Template registers instances of this template (software_id); otherwise Metadata is
	// registered.
	Template string
	Metadata client.Metadata

	// Concurrency is the number of workers, each with one connection (default 8; with
	// Rate, the most installations in flight, default 64).
	Concurrency int
	// Rate, when > 0, starts that many installations per second (open loop).
	Rate float64
	// Bounds: the run stops starting requests at the first one reached; 0 = no bound.
	Installs    int
	Duration    time.Duration
	MaxRequests int64

	// Keep leaves the registered clients on the server instead of deleting them.
	Keep bool

	// Timeout bounds each request (default 30 s). TLSConfig is used for https (nil: the
	// system's roots). InsecureAllowHTTP allows plain http to non-loopback hosts (see
	// client.Client.InsecureAllowHTTP).
	Timeout           time.Duration
	TLSConfig         *tls.Config
	InsecureAllowHTTP bool
	UserAgent         string

	// Progress, when set, is called every ProgressInterval (default 1 s) during the run,
	// from another goroutine.
	Progress         func(Progress)
	ProgressInterval time.Duration
}

func (c *Config) setDefaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 8
		if c.Rate > 0 {
			c.Concurrency = 64
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = time.Second
	}
	if c.Scopes == nil {
		c.Scopes = []string{"dcr"}
	}
}

func (c *Config) has(s Step) bool { return slices.Contains(c.Steps, s) }

// validate checks that the steps can be played with what the Config gives.
func (c *Config) validate() error {
	switch {
	case c.Issuer == "":
		return errors.New("bench: no issuer given")
	case len(c.Steps) == 0:
		return errors.New("bench: no steps given")
	case c.Installs <= 0 && c.Duration <= 0 && c.MaxRequests <= 0:
		return errors.New("bench: no bound: give a number of installations, a duration or a maximum number of requests")
	case c.Rate < 0:
		return errors.New("bench: the rate must be positive")
	case c.has(StepToken) && (c.ClientID == "" || c.ClientSecret == ""):
		return errors.New("bench: the token step needs a client id and secret for the client credentials grant (the server's bootstrap client)")
	case c.has(StepToken) && c.InitialToken != "":
		return errors.New("bench: both a token step and a reusable initial access token: choose one")
	}
	if !c.has(StepRegister) {
		for _, s := range []Step{StepLogin, StepRead, StepDelete} {
			if c.has(s) {
				return fmt.Errorf("bench: step %s needs the register step: it acts on the registered client", s)
			}
		}
	}
	return nil
}
