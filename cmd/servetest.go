package cmd

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/dcrctl/dcrctl/testserver"
)

// serveTestOptions are the dcrctl serve flags for tests that steer the server.
type serveTestOptions struct {
	Control bool
	Clock   string
	Seed    uint64
	Import  string
}

// readyControl is the control API part of the ready line.
type readyControl struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

func addServeTestFlags(f *pflag.FlagSet, o *serveTestOptions) {
	f.BoolVar(&o.Control, "control", false, "turn on the control API for tests (loopback callers with the bearer token printed at start)")
	f.StringVar(&o.Clock, "clock", "real", "server clock: real, or fake (moved only by the control API)")
	f.StringVar(&o.Import, "import", "", "load a state written by dcrctl serve export before serving")
	f.Uint64Var(&o.Seed, "seed", 0, "make client ids, secrets and tokens reproducible from this seed (tests only)")
}

// apply sets the test options on cfg and returns the control API's part of the ready line.
func (o *serveTestOptions) apply(cfg *testserver.Config) (*readyControl, error) {
	switch o.Clock {
	case "real", "":
	case "fake":
		cfg.FakeClock = testserver.NewFakeClock(time.Now().Truncate(time.Second))
	default:
		return nil, usageErrorf("--clock %q: use real or fake", o.Clock)
	}
	if o.Seed != 0 {
		cfg.Seed = o.Seed
	}
	if !o.Control {
		return nil, nil
	}
	cfg.ControlToken = rand.Text()
	return &readyControl{Token: cfg.ControlToken}, nil
}

func printControl(w io.Writer, c *readyControl) {
	if c != nil {
		fmt.Fprintf(w, "  control       %s (Authorization: Bearer %s)\n", c.URL, c.Token)
	}
}
