package flowradar

import "fmt"

// HopState is what a flow's counts at two consecutive switches of its
// path say about the link between them; see [Network.Hops]. The zero
// HopState is HopUnknown.
type HopState uint8

const (
	// HopUnknown: the flow's count at one of the two switches is not
	// known exactly (an estimate, [Count.Exact] false, or no count at a
	// switch whose decode left flows or inconsistent cells), so the counts
	// cannot tell whether packets were lost there.
	HopUnknown HopState = iota
	// HopNoLoss: both counts are exact and equal.
	HopNoLoss
	// HopLoss: both counts are exact and the downstream switch counted
	// fewer packets: [Hop.Lost] packets left the upstream switch's
	// counters and never reached the downstream one's. That is loss
	// between the two, unless the downstream table missed part of the
	// epoch: its switch restarted (its table was emptied) during the
	// epoch, or flipped before the upstream one and counted the packets
	// in flight in its next epoch. The counts cannot tell these apart.
	HopLoss
	// HopGain: both counts are exact and the downstream switch counted
	// more packets than the upstream one, which no loss explains: the
	// path given is not the flow's, or the switches' epochs do not line
	// up (packets in flight when the tables were flipped), or the
	// upstream switch restarted during the epoch.
	HopGain
)

// String returns "unknown", "no loss", "loss" or "gain".
func (s HopState) String() string {
	switch s {
	case HopUnknown:
		return "unknown"
	case HopNoLoss:
		return "no loss"
	case HopLoss:
		return "loss"
	case HopGain:
		return "gain"
	}
	return fmt.Sprintf("HopState(%d)", uint8(s))
}

// Hop is one link of a flow's path, from switch From to the next switch
// To (indexes into the tables given to [DecodeNetwork]), with what the
// flow's counts there show.
type Hop struct {
	From, To int
	State    HopState
	// Lost is From's packet count minus To's when State is HopLoss, and 0
	// otherwise.
	Lost int64
}

// Hops locates the packet loss of flow f (normally one of nw.Flows)
// along path, the switches f crosses in order, as indexes into the
// tables given to [DecodeNetwork] (the routing tells a collector the
// path; [LeafSpine.Path] gives it in the simulator). It appends to out
// one [Hop] per pair of consecutive switches of path, len(path)-1 of
// them, and returns the extended slice: HopLoss with the packets lost
// (the count at path[i] minus the count at path[i+1]) where the count
// falls, HopNoLoss where it stays, HopUnknown where the counts cannot
// tell, HopGain where it rises. Where [FlowReport.Loss] says that a flow
// lost packets and the counts along its path are exact, Hops says between
// which switches.
//
// Only exact counts ([Count.Exact]) are evidence. A switch of the path
// without a count of f counted 0 packets of it (every packet was dropped
// upstream) if its decode was clean, with no Stuck, Conflict or Mismatch
// cell: then every flow its table holds was found. At any other switch
// a missing count is unknown (f may be among the flows left undecoded).
// Counts of f at switches off the path (a flow-filter false positive at
// the collector) are ignored. Packets dropped after the last switch of
// the path, on the way to the destination host, are counted by no one:
// no hop shows them.
//
// The error wraps [ErrParams], and out comes back unchanged, when nw or
// f is nil, when path names a switch outside [0, len(nw.Stuck)) or the
// same switch twice, or when f has two counts at one switch of the path.
func (nw *Network) Hops(f *FlowReport, path []int, out []Hop) ([]Hop, error) {
	if nw == nil || f == nil {
		return out, fmt.Errorf("%w: hops: the network or the flow report is nil", ErrParams)
	}
	n := len(nw.Stuck)
	for i, sw := range path {
		if sw < 0 || sw >= n {
			return out, fmt.Errorf("%w: hops: switch %d at position %d of the path, want a switch in [0, %d)", ErrParams, sw, i, n)
		}
		for _, o := range path[:i] {
			if o == sw {
				return out, fmt.Errorf("%w: hops: the path visits switch %d twice, want each switch at most once", ErrParams, sw)
			}
		}
		seen := false
		for _, c := range f.Counts {
			if c.Switch == sw {
				if seen {
					return out, fmt.Errorf("%w: hops: flow %v has two counts at switch %d, want at most one per switch", ErrParams, f.Key, sw)
				}
				seen = true
			}
		}
	}
	for i := 0; i+1 < len(path); i++ {
		h := Hop{From: path[i], To: path[i+1]}
		up, uok := nw.packetsAt(f, h.From)
		down, dok := nw.packetsAt(f, h.To)
		switch {
		case !uok || !dok:
			h.State = HopUnknown
		case up > down:
			h.State, h.Lost = HopLoss, up-down
		case up == down:
			h.State = HopNoLoss
		default:
			h.State = HopGain
		}
		out = append(out, h)
	}
	return out, nil
}

// packetsAt returns f's packet count at switch sw and whether it is known
// exactly: its exact count there, or 0 if it has none and sw's decode was
// clean (see [Network.Hops]).
func (nw *Network) packetsAt(f *FlowReport, sw int) (int64, bool) {
	for _, c := range f.Counts {
		if c.Switch == sw {
			return c.Packets, c.Exact
		}
	}
	clean := sw < len(nw.Stuck) && nw.Stuck[sw] == 0 &&
		sw < len(nw.Conflict) && nw.Conflict[sw] == 0 &&
		sw < len(nw.Mismatch) && nw.Mismatch[sw] == 0
	return 0, clean
}
