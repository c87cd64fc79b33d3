package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Options configure the kernel at load time.
type Options struct {
	// Seed is the seed of the key hash, as in [flow.Key.Hash].
	Seed uint64
	// Events sends one record per packet to the ring buffer, read with
	// [Kernel.NextEvent]. Without it the kernel only counts and digests.
	Events bool
	// EventsBytes is the ring buffer's size: a power of two from the page
	// size (4096 on most machines) to 2^30. Zero means 4 MiB. Without
	// Events the kernel sends nothing and gets a ring of one page, though a
	// value out of range is still refused.
	EventsBytes int
}

// DefaultEventsBytes is the ring size when Options.EventsBytes is zero.
const DefaultEventsBytes = 4 << 20

func (o Options) eventsBytes() int {
	if o.EventsBytes == 0 {
		return DefaultEventsBytes
	}
	return o.EventsBytes
}

// Validate checks the options as Load does before it loads anything, so
// without privileges or a BPF-capable kernel (on any OS), and returns the
// error Load would return for them, or nil.
func (o Options) Validate() error {
	n, page := o.eventsBytes(), os.Getpagesize()
	if n < page || n&(n-1) != 0 || n > 1<<30 {
		return fmt.Errorf("flow kernel: EventsBytes must be a power of two from the page size, %d, to 2^30, got %d", page, o.EventsBytes)
	}
	return nil
}

// Stats are the kernel's counters summed over CPUs, since the Load or the
// last [Kernel.ResetStats].
type Stats struct {
	// Outcomes counts packets by parse outcome, indexed by [flow.Outcome].
	Outcomes [4]uint64
	// EventsLost counts records dropped because the ring buffer was full.
	EventsLost uint64
	// Digest is the XOR of the hashes of every parsed key: compare it with
	// [Digest] of the same frames.
	Digest uint64
}

// Packets returns the number of packets the kernel saw.
func (s Stats) Packets() uint64 {
	var n uint64
	for _, v := range s.Outcomes {
		n += v
	}
	return n
}

// Digest returns what the kernel's digest holds after seeing frames: the
// XOR of the seeded hashes of every key that [flow.Parse] accepts.
func Digest(frames [][]byte, seed uint64) uint64 {
	var d uint64
	for _, f := range frames {
		if info, err := flow.Parse(f); err == nil {
			d ^= info.Key.Hash(seed)
		}
	}
	return d
}

// Event is the kernel's record of one packet.
type Event struct {
	// Outcome is the parse outcome; Info and Hash are meaningful when it
	// is [flow.OutcomeOK].
	Outcome flow.Outcome
	Info    flow.Info
	Hash    uint64
	// FrameLen is the number of bytes the kernel saw: the linear part of
	// the frame.
	FrameLen int
}

// eventSize is sizeof(struct flow_event): struct dp_parsed (64) + hash (8)
// + outcome (4) + frame_len (4). A test checks it against the generated type.
const eventSize = 80

// decodeEvent decodes a struct flow_event in host byte order. It refuses
// what no kernel writes: an outcome past the last, and for a parsed frame
// a key length other than 13 or 37 or a fragment value past the last.
func decodeEvent(b []byte) (Event, error) {
	if len(b) < eventSize {
		return Event{}, fmt.Errorf("flow kernel: event of %d bytes, want %d", len(b), eventSize)
	}
	var e Event
	ne := binary.NativeEndian
	o := ne.Uint32(b[72:76])
	if o >= flow.NumOutcomes {
		return Event{}, fmt.Errorf("flow kernel: event with outcome %d, want below %d (flow.NumOutcomes)", o, flow.NumOutcomes)
	}
	e.Outcome = flow.Outcome(o)
	e.FrameLen = int(ne.Uint32(b[76:80]))
	e.Hash = ne.Uint64(b[64:72])
	if e.Outcome != flow.OutcomeOK {
		return e, nil
	}
	key, err := bpfload.FlowKey(b)
	if err != nil {
		return e, fmt.Errorf("flow kernel: bad key in event: %w", err)
	}
	if f := flow.Fragment(b[52]); f > flow.LaterFragment {
		return e, fmt.Errorf("flow kernel: event with fragment %d, want %d (none), %d (first) or %d (later)", f, flow.NotFragment, flow.FirstFragment, flow.LaterFragment)
	}
	e.Info = flow.Info{
		Key:        key,
		L3Offset:   ne.Uint16(b[48:50]),
		L4Offset:   ne.Uint16(b[50:52]),
		Fragment:   flow.Fragment(b[52]),
		VLANTags:   b[53],
		IPID:       ne.Uint32(b[56:60]),
		FragOffset: ne.Uint16(b[60:62]),
	}
	return e, nil
}

// ErrNoEvent is returned by [Kernel.NextEvent] when no record is waiting.
var ErrNoEvent = errors.New("flow kernel: no event waiting")
