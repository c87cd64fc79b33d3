package xdp

import (
	"encoding/binary"
	"fmt"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
)

// KeyLen is the length of a packet key, sizeof(struct iblt_pkt_key).
const KeyLen = 48

// keyWords is IBLT_KEY_WORDS in the kernel.
const keyWords = KeyLen / 8

// Options configure the kernel at load time.
type Options struct {
	// Cells and Hashes size the table (see [iblt.Params]); Seed seeds it.
	// Upstream and downstream digests must use equal values.
	Cells, Hashes int
	Seed          uint64
	// Shared keeps one table for all CPUs, updated with atomic operations,
	// instead of one table per CPU.
	Shared bool
}

// Params returns the iblt.Params of the kernel's table.
func (o Options) Params() iblt.Params {
	return iblt.Params{Cells: o.Cells, Hashes: o.Hashes, KeyLen: KeyLen, Seed: o.Seed}
}

func (o Options) validate() error {
	if err := o.Params().Validate(); err != nil {
		return fmt.Errorf("iblt kernel: %w", err)
	}
	return nil
}

// OptionsFor returns options for a digest that lists up to lost lost
// packets with probability at least success.
func OptionsFor(lost int, success float64, seed uint64) (Options, error) {
	p, err := iblt.ParamsFor(lost, KeyLen, success, seed)
	if err != nil {
		return Options{}, err
	}
	return Options{Cells: p.Cells, Hashes: p.Hashes, Seed: seed}, nil
}

// PacketID returns the 64-bit identifier of a frame that [flow.Parse]
// parsed into info (the C twin is iblt_packet_id):
//
//	bits 0-15   IPv4 identification (IPv6: the low bits of the fragment
//	            header's identification, 0 without one)
//	bits 16-31  the transport checksum: TCP, UDP, ICMP, ICMPv6
//	bits 32-63  TCP: the sequence number; ICMP and ICMPv6: header bytes 4-7
//	            (echo identifier and sequence); UDP: the last four bytes of
//	            the IP packet, when they lie past the UDP header and inside
//	            the frame (for encrypted payloads, authentication tag bytes)
//
// Fields outside the frame read as 0; later fragments have bits 0-15 only.
func PacketID(frame []byte, info flow.Info) uint64 {
	id := uint64(info.IPID & 0xffff)
	l4 := int(info.L4Offset)
	if l4 == 0 {
		return id
	}
	read := func(off, n int) uint64 {
		if off+n > len(frame) {
			return 0
		}
		if n == 2 {
			return uint64(binary.BigEndian.Uint16(frame[off:]))
		}
		return uint64(binary.BigEndian.Uint32(frame[off:]))
	}
	switch info.Key.Proto() {
	case flow.ProtoTCP:
		id |= read(l4+16, 2)<<16 | read(l4+4, 4)<<32
	case flow.ProtoICMP, flow.ProtoICMPv6:
		id |= read(l4+2, 2)<<16 | read(l4+4, 4)<<32
	case flow.ProtoUDP:
		id |= read(l4+6, 2) << 16
		l3 := int(info.L3Offset)
		var end int
		if info.Key.Is6() {
			end = int(read(l3+4, 2))
			if end != 0 {
				end += l3 + 40
			}
		} else {
			end = int(read(l3+2, 2))
			if end != 0 {
				end += l3
			}
		}
		if end != 0 && end <= len(frame) && end >= l4+12 {
			id |= read(end-4, 4) << 32
		}
	}
	return id
}

// PacketKey returns the digest key of a parsed frame (struct
// iblt_pkt_key): the canonical flow key bytes zero padded to 37, the key
// length, two zero bytes and the packet identifier, little-endian.
func PacketKey(frame []byte, info flow.Info) [KeyLen]byte {
	var k [KeyLen]byte
	copy(k[:37], info.Key.Bytes())
	k[37] = byte(info.Key.Len())
	binary.LittleEndian.PutUint64(k[40:], PacketID(frame, info))
	return k
}

// ParseKey splits a packet key into its flow key and identifier.
func ParseKey(b []byte) (flow.Key, uint64, error) {
	if len(b) != KeyLen {
		return flow.Key{}, 0, fmt.Errorf("iblt kernel: packet key must be %d bytes, got %d", KeyLen, len(b))
	}
	n := int(b[37])
	if n != flow.KeyLen4 && n != flow.KeyLen6 {
		return flow.Key{}, 0, fmt.Errorf("iblt kernel: packet key length byte must be %d or %d, got %d", flow.KeyLen4, flow.KeyLen6, n)
	}
	for _, c := range b[n:37] {
		if c != 0 {
			return flow.Key{}, 0, fmt.Errorf("iblt kernel: packet key has non-zero padding after %d flow key bytes", n)
		}
	}
	if b[38]|b[39] != 0 {
		return flow.Key{}, 0, fmt.Errorf("iblt kernel: packet key has non-zero bytes 38..39")
	}
	k, err := flow.KeyFromBytes(b[:n])
	if err != nil {
		return flow.Key{}, 0, err
	}
	return k, binary.LittleEndian.Uint64(b[40:]), nil
}

// Insert inserts a frame into t as the kernel does: it parses the frame,
// and if the parser accepts it, inserts its packet key with the frame
// length as value. It reports whether the frame was inserted.
func Insert(t *iblt.Table, frame []byte) bool {
	info, err := flow.Parse(frame)
	if err != nil {
		return false
	}
	k := PacketKey(frame, info)
	return t.Insert(k[:], uint64(len(frame))) == nil
}

// Digest returns, computed in Go, the table the kernel holds after seeing
// frames.
func Digest(o Options, frames [][]byte) (*iblt.Table, error) {
	t, err := iblt.New(o.Params())
	if err != nil {
		return nil, fmt.Errorf("iblt kernel: %w", err)
	}
	for _, f := range frames {
		Insert(t, f)
	}
	return t, nil
}

// Packet is one listed packet.
type Packet struct {
	Flow  flow.Key
	ID    uint64 // see PacketID
	Bytes uint64 // frame length
}

// Lost subtracts the downstream digest from the upstream one and lists the
// difference: lost holds packets seen upstream only, extra packets seen
// downstream only (injected, or rerouted around the upstream point). When
// listing stalls (more losses than the table was sized for, twins, or a
// residue as below) the error wraps [iblt.ErrDecodeIncomplete] and the
// packets peeled so far are returned beside it, unverified: only a nil
// error proves the lists. A listed packet's flow and identifier are
// genuine, but while a residue or a corrupt cell is in the digest, a
// packet beside the error can carry a wrong byte count, or be listed as
// extra instead of lost (see [iblt.Table.List]).
//
// A packet cancels only if both points saw the same frame length (the
// digest's value): a packet that gains or loses bytes in between (a VLAN
// tag pushed or popped) leaves a residue that also makes listing stall
// (see [iblt.Table.Subtract]).
func Lost(up, down *iblt.Table) (lost, extra []Packet, err error) {
	d := up.Clone()
	if err := d.Subtract(down); err != nil {
		return nil, nil, err
	}
	ins, del, lerr := d.List()
	conv := func(es []iblt.Entry) ([]Packet, error) {
		out := make([]Packet, 0, len(es))
		for _, e := range es {
			k, id, err := ParseKey(e.Key)
			if err != nil {
				return out, err
			}
			out = append(out, Packet{Flow: k, ID: id, Bytes: e.Value})
		}
		return out, nil
	}
	lost, err = conv(ins)
	if err != nil {
		return lost, nil, err
	}
	extra, err = conv(del)
	if err != nil {
		return lost, extra, err
	}
	return lost, extra, lerr
}

// Stats are the kernel's counters summed over CPUs.
type Stats struct {
	// Outcomes counts packets by parse outcome, indexed by [flow.Outcome];
	// Outcomes[flow.OutcomeOK] packets were inserted.
	Outcomes [4]uint64
	// MissingCells counts failed cell lookups (zero unless the map was
	// sized wrongly).
	MissingCells uint64
}

// Packets returns the number of packets the kernel saw.
func (s Stats) Packets() uint64 {
	var n uint64
	for _, v := range s.Outcomes {
		n += v
	}
	return n
}
