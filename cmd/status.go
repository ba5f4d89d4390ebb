package cmd

import (
	"context"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newStatusCmd) }

func newStatusCmd(g *GlobalOptions) *cobra.Command {
	var offline bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Which keystore, where its files are, whether it answers, and what it holds",
		Long: `Show the keystore dcrctl uses (and what chose it), where its index and secrets are, whether
its secret store answers (the OS keyring is asked for an entry that does not exist: no secret
is read, no unlock prompt), how many credentials are stored, per issuer, whether each issuer
answers (its discovery document, fetched without a credential; --offline skips it), and
recovery files waiting for dcrctl import. Every keystore the index names is checked. The exit
code is 5 when the chosen keystore does not answer; an issuer that does not answer is only
reported.`,
		Example: `  dcrctl status
  dcrctl status --offline -o json | jq '.keystores[] | select(.reachable | not)'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			return statusRun(ctx, g, offline)
		},
	}
	c.Flags().BoolVar(&offline, "offline", false, "do not ask the issuers whether they answer (no request at all)")
	return c
}

func statusRun(ctx context.Context, g *GlobalOptions, offline bool) error {
	v := statusView{Keystore: g.Keystore, Chosen: "the default", Issuers: []issuerStatus{}}
	if g.settings.KeystoreExplicit {
		v.Chosen = "--keystore, DCRCTL_KEYSTORE or the profile"
	}
	kind := g.Keystore
	if kind == keystoreNone || kind == "" {
		kind = keystoreOS // the index is the os store's, read without a secret
	}
	st, err := g.openStoreKind(kind)
	if err != nil {
		return err
	}
	list, err := st.List(ctx)
	if err != nil {
		return err
	}
	v.Credentials = len(list)
	kinds, issuers := map[string]int{}, map[string]int{}
	for _, c := range list {
		kinds[c.Keystore]++
		issuers[c.Issuer]++
	}
	for _, k := range sortedKeys(issuers) {
		v.Issuers = append(v.Issuers, issuerStatus{Issuer: k, Credentials: issuers[k]})
	}
	if err := v.describeStores(ctx, g, kind, kinds); err != nil {
		return err
	}
	if !offline {
		v.reachIssuers(ctx, g)
	}
	v.Recovery = recoveryFiles(g.recoveryDir())
	if err := writeData(g.IO.Out, g.Output, v, func(w io.Writer) error { return v.table(w) }); err != nil {
		return err
	}
	if g.Keystore != keystoreNone && v.Stores[0].err != nil {
		return v.Stores[0].err
	}
	return nil
}

// describeStores asks the chosen keystore first, then every other kind the index names.
func (v *statusView) describeStores(ctx context.Context, g *GlobalOptions, chosen string, kinds map[string]int) error {
	order := []string{chosen}
	for _, k := range sortedKeys(kinds) {
		if k != "" && !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	for _, k := range order {
		st, err := g.openStoreKind(k)
		if err != nil {
			return err
		}
		s := storeStatus{Kind: k, Credentials: kinds[k], Reachable: true}
		if d, ok := st.(keystore.Describer); ok {
			desc := d.Describe(ctx)
			s.Secrets, s.err = desc.Secrets, desc.Err
			if v.Index == "" {
				v.ConfigDir, v.Index = desc.ConfigDir, desc.Index
			}
			if s.err != nil {
				s.Reachable, s.Problem = false, withAdvice(s.err).Error()
			}
		}
		v.Stores = append(v.Stores, s)
	}
	return nil
}
