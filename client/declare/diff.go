package declare

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
)

// MemberDiff is one member whose current value at the server differs from the desired one.
type MemberDiff struct {
	Member string `json:"member"`
	// From is the server's current value; absent when the server has none.
	From json.RawMessage `json:"from,omitempty"`
	// To is the desired value; absent when the member is to be removed.
	To json.RawMessage `json:"to,omitempty"`
	// Secret is set for a member that holds a secret (client.IsSecretMember): From and To
	// are then left out.
	Secret bool `json:"secret,omitempty"`
}

// compare lists the members in which current differs from desired, and the members that
// differ only because the server does not keep them as sent (see the package doc), both
// sorted by member. last is the registrar's record of the last request (nil: none).
//
//   - A member of desired differs when current lacks it or holds another value
//     (registrar.SameValue), unless last sent that very value and the server then answered
//     with what it holds now (last.Changes): then it is not kept.
//   - A member that desired lacks differs only when last sent it and current still has it:
//     it was removed from the file. Members neither named nor sent (server defaults, vendor
//     additions) are not compared, and neither are secret members, which a file cannot name.
func compare(desired, current map[string]json.RawMessage, last *registrar.LastRequest) (diff []MemberDiff, notKept []registrar.Change) {
	var sent map[string]json.RawMessage
	changes := map[string]registrar.Change{}
	if last != nil {
		_ = json.Unmarshal(last.Metadata, &sent)
		for _, c := range last.Changes {
			changes[c.Member] = c
		}
	}
	members := map[string]bool{}
	for k := range desired {
		members[k] = true
	}
	for k := range sent {
		members[k] = true
	}
	for _, m := range sortedKeys(members) {
		d, inD := desired[m]
		c, inC := current[m]
		inC = inC && !isNull(c)
		switch {
		case !inD && !inC, inD && inC && registrar.SameValue(m, d, c):
			continue
		case !inD && client.IsSecretMember(m):
			continue // a file never names a secret member: its absence is no removal
		case !inD:
			diff = append(diff, MemberDiff{Member: m, From: c})
			continue
		}
		if ch, ok := changes[m]; ok && sameSent(m, d, sent) && explains(ch, c, inC) {
			notKept = append(notKept, ch)
			continue
		}
		md := MemberDiff{Member: m, To: d}
		if inC {
			md.From = c
		}
		diff = append(diff, md)
	}
	return redactDiff(diff), notKept
}

// sameSent reports whether the last request sent d for m.
func sameSent(m string, d json.RawMessage, sent map[string]json.RawMessage) bool {
	s, ok := sent[m]
	return ok && registrar.SameValue(m, d, s)
}

// explains reports whether the server's answer to the last request, as ch records it, is
// what it holds now.
func explains(ch registrar.Change, c json.RawMessage, inC bool) bool {
	switch ch.Kind {
	case registrar.ChangeIgnored:
		return !inC
	case registrar.ChangeReplaced:
		return inC && registrar.SameValue(ch.Member, ch.Got, c)
	}
	return false
}

// redactDiff leaves the values of secret members out, and redacts secrets inside values
// (the private members of a JWK).
func redactDiff(diff []MemberDiff) []MemberDiff {
	for i := range diff {
		if client.IsSecretMember(diff[i].Member) {
			diff[i].From, diff[i].To, diff[i].Secret = nil, nil, true
			continue
		}
		if diff[i].From != nil {
			diff[i].From = client.RedactJSON(diff[i].From)
		}
		if diff[i].To != nil {
			diff[i].To = client.RedactJSON(diff[i].To)
		}
	}
	sort.Slice(diff, func(i, j int) bool { return diff[i].Member < diff[j].Member })
	return diff
}

func isNull(v json.RawMessage) bool { return strings.TrimSpace(string(v)) == "null" }

// membersOf returns md member by member.
func membersOf(md client.Metadata) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if b, err := json.Marshal(md); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}
