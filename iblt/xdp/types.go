package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/bpfload"
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
	// instead of one table per CPU. The per-CPU tables add up to exactly
	// the shared table (an IBLT is linear), whatever CPU each packet
	// reached, so Shared buys only memory (one table rather than one per
	// CPU), and it costs time: 7 (IPv4) or 9 (IPv6) locked operations a
	// packet per hash, 21 to 27 with 3 hashes (OptionsFor mostly picks 4:
	// 28 to 36). What they cost depends on the CPU: BenchmarkKernel (3
	// hashes, one CPU running the program) measured the shared digest at
	// 3.5 times the per-CPU digest's time on one VM and at 1.05 to 1.08
	// times on another (the README's kernel table), and CPUs contending
	// for a cell's cache line add to it. In return the collector's side
	// is cheaper: the shared map is read and cleared through a memory
	// mapping, a Read of 12,600 cells in about 0.5 ms where the per-CPU
	// tables' batch system calls take about 5 (BenchmarkKernelTable).
	Shared bool
	// PinPath, if not empty, is a directory of a BPF file system (such as
	// one under /sys/fs/bpf) in which Load pins the kernel's maps, or
	// takes up the maps that a load with the same options pinned there
	// before. Kernels loaded with one PinPath share the digests of both
	// epochs, the epoch written and the statistics: a packet that the
	// program of one sees is in every one's Stats and (if parsed) Table,
	// and a Flip, Clear or Reset through one is every one's. Load clears
	// nothing it takes up, so several processes can drive one data plane
	// (a collector that flips and readers, say), and a process that
	// restarts finds the digests, the epoch and the statistics as it left
	// them. Per-CPU and shared tables are pinned alike. Load refuses a
	// PinPath holding a kernel loaded with other options, naming the
	// load-time constants that differ: iblt_seed and iblt_check_seed
	// (Seed), iblt_k (Hashes), iblt_sub (Cells per hash), iblt_shared
	// (Shared) and iblt_stride (the cell map's layout, from Cells and
	// Shared). Pins outlive the processes; [Unpin] removes them. Each
	// Load has its own program: attach one (and pin its link, with
	// link.Pin, to keep it attached when the process ends).
	// To upgrade the program without a gap, load the new one with the same
	// PinPath, open the link with link.LoadPinnedLink and Update it to the
	// new kernel's Program: the maps go on as they were.
	//
	// A Flip waits for the programs of all the kernels on the path, not
	// only its own: its wait is an RCU grace period, which ends only once
	// every XDP program run that began before it has ended, whoever loaded
	// the program. The rule that a Flip must not overlap another Flip or a
	// Clear holds across the kernels of one path as within one Kernel, but
	// nothing enforces it between processes: a Flip that overlaps another
	// clears the epoch the other is reading. Let one process flip; the
	// others can read the epoch it ended, 1 - [Kernel.Epoch], which stays
	// unchanged until the next Flip.
	PinPath string
}

// Params returns the iblt.Params of the kernel's table.
func (o Options) Params() iblt.Params {
	return iblt.Params{Cells: o.Cells, Hashes: o.Hashes, KeyLen: KeyLen, Seed: o.Seed}
}

// Validate checks the options as Load does before it loads anything, so
// without privileges or a BPF-capable kernel (on any OS), and returns the
// error Load would return for them, or nil.
func (o Options) Validate() error {
	if err := o.Params().Validate(); err != nil {
		return bpfload.Reprefix(err, "iblt: ", "iblt kernel: ")
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

// IP protocols whose headers [PacketID] reads beyond TCP, UDP and ICMP.
const (
	protoGRE  = 47  // RFC 2784, RFC 2890
	protoESP  = 50  // RFC 4303
	protoAH   = 51  // RFC 4302; a transport header over IPv4 only (IPv6 walks it)
	protoSCTP = 132 // RFC 9260
)

// GRE flags (RFC 2784, RFC 2890; R is RFC 1701's routing bit, which brings
// the checksum word along as C does).
const (
	greC = 0x8000 // checksum present
	greR = 0x4000 // routing present (RFC 1701): checksum and offset present
	greK = 0x2000 // key present
	greS = 0x1000 // sequence number present
)

// PacketID returns the 64-bit identifier of a frame that [flow.Parse]
// parsed into info (the C twin is iblt_packet_id). Bits 0-15 hold the IPv4
// identification (IPv6: the low bits of the fragment header's
// identification, 0 without one; for TCP over IPv6, XORed with the TCP
// options (d)); bits 16-31 and 32-63 hold fields of the
// transport header that change from packet to packet, by protocol (byte
// numbers count from the start of the transport header; a ^ b is the XOR
// of the 16-bit words a and b):
//
//	protocol          bits 16-31                  bits 32-63
//	TCP               bytes 8-9 ^ 10-11 ^ 12-13   sequence number (bytes 4-7)
//	                  ^ 14-15 (acknowledgment
//	                  number, data offset and
//	                  flags, window)
//	ICMP, ICMPv6      checksum                    bytes 4-7 (echo identifier, sequence)
//	UDP               payload bytes 0-1 ^ 2-3 (a) last 4 bytes of the IP packet (a)
//	ESP               SPI, low 16 bits            sequence number (bytes 4-7)
//	AH (IPv4 only)    SPI, low 16 bits            sequence number (bytes 8-11)
//	SCTP              bytes 12-13 ^ 14-15 (first  bytes 16-19 (its first value
//	                  chunk's type, flags and     bytes: a DATA chunk's TSN, a
//	                  length)                     SACK's cumulative TSN ack)
//	GRE               checksum (C or R flag),     sequence number (S flag),
//	                  else key, low 16 bits       else inner fields (b)
//	                  (K flag), else 0
//	later fragments   fragment offset             last 4 bytes of the IP packet (c)
//	                  ([flow.Info.FragOffset])
//	others            0                           0
//
// Every field is read as a big-endian number, as it stands on the wire: a
// UDP datagram whose payload ends in the bytes 00 00 00 15 has ID>>32 ==
// 0x15, and one whose payload starts with ab cd 01 00 has bits 16-31 equal
// to 0xabcd ^ 0x0100 = 0xaacd.
//
// No TCP or UDP checksum and no SCTP CRC32c is read: with checksum offload
// the sending host leaves them partial (the pseudo-header sum, one value
// for every packet of a flow) or, for SCTP, zero, and the NIC or the stack
// fills them in later, so XDP on a veth sees one value and a point further
// on another, and every packet's identifier would differ between the two
// digests. The identifier reads only fields that no offload rewrites
// (but for the inner packet of a GRE tunnel, (b)). The ICMP and ICMPv6
// checksums are computed in software (Linux offloads neither), and GRE's
// checksum by the tunnel; both are read.
//
// (a) Both only when the IP packet, by its length field, ends inside the
// frame at least 4 bytes past the UDP header: the first bytes hold DNS
// IDs, RTP sequence numbers and the like, the last ones the authentication
// tags of QUIC, WireGuard or DTLS. (b) From the payload after the GRE
// header: for IPv4 (protocol type 0x0800) the inner identification in bits
// 48-63 and bytes 6-7 past the inner header (by its IHL) in bits 32-47; for
// IPv6 (0x86DD) bytes 4-7 past the inner 40-byte header; for other types
// payload bytes 4-7. With the R flag (RFC 1701) the routing entries come
// first and are read in place of the inner packet: still the same in Go and
// in the kernel, but not the inner packet's fields. For an inner UDP
// datagram the bytes read past the inner header are its checksum (IPv6:
// length and checksum), which offload can leave partial where the tunnel
// is entered: the one place a checksum that offload rewrites still enters
// the identifier (tunnels that send sequence numbers do not read it). (c)
// When the IP packet ends inside the frame and holds at least 4 bytes past
// a minimal header (20 bytes for IPv4, 48 with the fragment header for
// IPv6). The IP length fields decide where a packet ends; a length of 0
// reads nothing. Fields outside the frame read as 0, and so do fields
// past the end of the IP packet when it ends inside the frame: Ethernet
// padding and trailers are not the packet's, and one observation point
// may see other bytes there (or none) than the next. So do fields
// starting past offset 65,280 (0xff00), which the kernel cannot reach by
// direct packet access: only a frame longer than 64 KiB, which generic XDP
// can deliver, has them. (d) The XOR of the 16-bit words of the TCP
// options (header bytes 20 to 4*data offset), but not of a SYN's, whose
// MSS a router on the path may clamp. IPv6 has no identification outside
// fragments, and the options tell apart the duplicate ACKs that loss
// brings about: equal in sequence, acknowledgment and window, they differ
// in their SACK blocks or timestamps.
func PacketID(frame []byte, info flow.Info) uint64 {
	id := uint64(info.IPID & 0xffff)
	if end := ipEnd(frame, info); end != 0 && end <= len(frame) {
		frame = frame[:end] // padding or a trailer past the packet
	}
	l4 := int(info.L4Offset)
	if l4 == 0 {
		return id | fragmentID(frame, info)
	}
	switch info.Key.Proto() {
	case flow.ProtoTCP: // ports(4) sequence(4) ack(4) offset, flags(2) window(2) checksum(2) urgent(2) options
		id |= xor16(frame, l4+8, 4)<<16 | readBE(frame, l4+4, 4)<<32
		if info.Key.Is6() {
			id ^= tcpOptionsID(frame, l4)
		}
	case flow.ProtoICMP, flow.ProtoICMPv6: // type, code(2) checksum(2) rest(4)
		id |= readBE(frame, l4+2, 2)<<16 | readBE(frame, l4+4, 4)<<32
	case flow.ProtoUDP: // ports(4) length(2) checksum(2) payload
		if end := ipEnd(frame, info); end != 0 && end <= len(frame) && end >= l4+12 {
			id |= xor16(frame, l4+8, 2)<<16 | readBE(frame, end-4, 4)<<32
		}
	default:
		id |= otherID(frame, l4, info.Key.Proto())
	}
	return id
}

// readBE reads the big-endian field of n (2 or 4) bytes at frame offset
// off, or returns 0 when it is not inside the frame or starts past
// bpfload.MaxOff (iblt_read).
func readBE(frame []byte, off, n int) uint64 {
	if off < 0 || off > bpfload.MaxOff || off+n > len(frame) {
		return 0
	}
	if n == 2 {
		return uint64(binary.BigEndian.Uint16(frame[off:]))
	}
	return uint64(binary.BigEndian.Uint32(frame[off:]))
}

// xor16 returns the XOR of the n big-endian 16-bit words from frame
// offset off, each read as readBE reads it (iblt_xor16).
func xor16(frame []byte, off, n int) uint64 {
	var x uint64
	for i := range n {
		x ^= readBE(frame, off+2*i, 2)
	}
	return x
}

// ipEnd returns the frame offset where the IP packet ends by its length
// field, or 0 when the field is 0 (or not inside the frame).
func ipEnd(frame []byte, info flow.Info) int {
	l3 := int(info.L3Offset)
	if info.Key.Is6() {
		if n := int(readBE(frame, l3+4, 2)); n != 0 {
			return n + l3 + 40
		}
		return 0
	}
	if n := int(readBE(frame, l3+2, 2)); n != 0 {
		return n + l3
	}
	return 0
}

// tcpOptionsID returns the XOR of the 16-bit words of the options of the
// TCP header at l4, 0 for a SYN or a header without options
// (iblt_tcp_options_id).
func tcpOptionsID(frame []byte, l4 int) uint64 {
	hdr := int(readBE(frame, l4+12, 2))
	options := (hdr>>12)*4 - 20 // bytes; negative for a data offset below 5
	if hdr&tcpSYN != 0 || options <= 0 {
		return 0
	}
	return xor16(frame, l4+20, options/2)
}

// tcpSYN is the SYN bit of the TCP data offset and flags word.
const tcpSYN = 0x0002

// fragmentID returns bits 16-63 of a later fragment's identifier (no
// transport header): its offset in the datagram, and the last four bytes
// of the IP packet. Fragments of one datagram share the flow key and the
// identification, and differ in offset and data.
func fragmentID(frame []byte, info flow.Info) uint64 {
	if info.Fragment != flow.LaterFragment {
		return 0
	}
	l3 := int(info.L3Offset)
	lo := l3 + 20 + 4
	if info.Key.Is6() {
		lo = l3 + 48 + 4
	}
	id := uint64(info.FragOffset) << 16
	if end := ipEnd(frame, info); end != 0 && end <= len(frame) && end >= lo {
		id |= readBE(frame, end-4, 4) << 32
	}
	return id
}

// otherID returns bits 16-63 of the identifier of a packet whose transport
// header at l4 is neither TCP, UDP nor ICMP (see [PacketID]). ESP and AH
// sequence numbers count per security association and never repeat within
// one (RFC 4303 section 3.3.3); the SPI's low bits tell apart the
// associations between the same two hosts, whose sequences overlap (the
// flow key has no ports to do it). SCTP's CRC32c is not read (offload
// leaves it 0 where a veth sees it), nor its verification tag (one per
// association): the first chunk's header and first value bytes are, the
// TSN of a DATA chunk or the cumulative TSN ack of a SACK.
func otherID(frame []byte, l4 int, proto uint8) uint64 {
	switch proto {
	case protoESP: // SPI(4) sequence(4)
		return readBE(frame, l4+2, 2)<<16 | readBE(frame, l4+4, 4)<<32
	case protoAH: // next(1) length(1) reserved(2) SPI(4) sequence(4)
		return readBE(frame, l4+6, 2)<<16 | readBE(frame, l4+8, 4)<<32
	case protoSCTP: // ports(4) verification tag(4) CRC32c(4), chunk: type, flags(2) length(2) value
		return xor16(frame, l4+12, 2)<<16 | readBE(frame, l4+16, 4)<<32
	case protoGRE:
		return greID(frame, l4)
	}
	return 0
}

// greID returns bits 16-63 of a GRE packet's identifier. Sequence numbers
// (S) count per tunnel, so beside them the key's low bits (or the
// checksum, a digest of the packet) tell tunnels between the same
// endpoints apart. Most tunnels send neither sequence nor checksum: then
// the inner packet's fields that change per packet stand in (the inner
// IPv4 identification and, past its header, TCP's sequence, ICMP's echo
// sequence or UDP's checksum; for inner IPv6, TCP's sequence, ICMPv6's
// echo identifier and sequence, or UDP's length and checksum).
func greID(frame []byte, l4 int) uint64 {
	flags := readBE(frame, l4, 2)
	off := l4 + 4
	var id uint64
	csum := flags&(greC|greR) != 0
	if csum {
		id = readBE(frame, off, 2) << 16
		off += 4
	}
	if flags&greK != 0 {
		if !csum {
			id = readBE(frame, off+2, 2) << 16
		}
		off += 4
	}
	if flags&greS != 0 {
		return id | readBE(frame, off, 4)<<32
	}
	switch readBE(frame, l4+2, 2) {
	case 0x0800:
		ihl := int(readBE(frame, off, 2)>>8&0x0f) * 4
		return id | readBE(frame, off+4, 2)<<48 | readBE(frame, off+ihl+6, 2)<<32
	case 0x86dd:
		return id | readBE(frame, off+44, 4)<<32
	}
	return id | readBE(frame, off+4, 4)<<32
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
// length as value. It reports whether the frame was inserted: a nil t, like
// the zero Table, takes nothing.
func Insert(t *iblt.Table, frame []byte) bool {
	if t == nil {
		return false
	}
	info, err := flow.Parse(frame)
	if err != nil {
		return false
	}
	k := PacketKey(frame, info)
	return t.Insert(k[:], uint64(len(frame))) == nil
}

// Digest returns, computed in Go, the table the kernel holds after seeing
// frames. Options that [Load] refuses are refused with the same error.
// (o.Shared does not change the table.)
func Digest(o Options, frames [][]byte) (*iblt.Table, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	t := iblt.MustNew(o.Params())
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
// error proves the lists, and then only as far as a listing proves a
// table: a residue (below) lying in exactly the cells of a listed packet
// goes unseen, changing its byte count, and so do two lost twins with an
// extra packet in exactly their cells, which list the extra packet as
// lost, with a wrong byte count, and not the twins (see
// [iblt.Table.Subtract] and [iblt.Table.List]). A listed packet's flow
// and identifier are genuine, but while a residue or a corrupt cell is in
// the digest, a packet beside the error can carry a wrong byte count, or
// be listed as extra instead of lost (see [iblt.Table.List]). A listed key that is not
// a packet key (beside a stalled listing, or in a table that the kernel or
// [Insert] did not build) is left out of both lists, and the error says so,
// wrapping the listing's error if there is one. An incomplete listing's
// error says how to size a digest: [OptionsFor] for the number of lost
// packets, which the two kernels' counts give, the upstream
// [Stats].Outcomes[flow.OutcomeOK] minus the downstream one (lost less
// extra packets).
//
// A packet cancels only if both points saw the same frame length (the
// digest's value): a packet that gains or loses bytes in between (a VLAN
// tag pushed or popped) leaves a residue that usually makes listing stall
// too, but that a listed packet's byte count can also take up with no
// error (see [iblt.Table.Subtract]). A nil up or down table is an error
// naming it.
func Lost(up, down *iblt.Table) (lost, extra []Packet, err error) {
	var l Loss
	err = LostInto(up, down, &l)
	return l.Lost, l.Extra, err
}

// A Loss is what [LostInto] lists into: the packets, and the buffers the
// next call reuses. A collector that compares two digests every epoch
// ([Kernel.FlipInto] at both points) keeps one Loss and, once its buffers
// have grown to the largest difference, finds the lost packets without
// allocating. The zero Loss is ready to use. Not safe for concurrent use.
type Loss struct {
	// Lost and Extra are the packets listed, as [Lost] returns them. The
	// next LostInto into the same Loss overwrites them: copy what must
	// outlive it.
	Lost, Extra []Packet

	listing iblt.Listing
}

// LostInto is [Lost] into l: it sets l.Lost and l.Extra, reusing l's
// buffers from earlier calls, and returns the error Lost would return;
// neither table is changed. A nil up, down or l is an error naming it
// that leaves l unchanged, and so is an incompatible pair of tables.
func LostInto(up, down *iblt.Table, l *Loss) error {
	switch {
	case up == nil:
		return errors.New("iblt kernel: Lost of a nil up table")
	case down == nil:
		return errors.New("iblt kernel: Lost of a nil down table")
	case l == nil:
		return errors.New("iblt kernel: LostInto a nil Loss")
	}
	lerr := up.ListDifferenceInto(down, &l.listing)
	if lerr != nil && !errors.Is(lerr, iblt.ErrDecodeIncomplete) {
		return lerr // nothing listed: incompatible or zero tables
	}
	var bad, bad2 error // the first listed key that is not a packet key
	l.Lost, bad = appendPackets(l.Lost[:0], l.listing.Inserted)
	l.Extra, bad2 = appendPackets(l.Extra[:0], l.listing.Deleted)
	if bad == nil {
		bad = bad2
	}
	if lerr != nil {
		lerr = fmt.Errorf("iblt kernel: %w; size both digests with OptionsFor for the packets to list: those lost, which the upstream Kernel's Stats().Outcomes[flow.OutcomeOK] less the downstream one's counts (minus extra packets), plus, with Flip, those in flight at each flip, and twice that for two periods merged (if the count is well below what the digests were sized for, the points saw different packets: twins, or packets changed in between)", lerr)
	}
	switch {
	case bad == nil:
		return lerr
	case lerr == nil:
		return bad
	default:
		return fmt.Errorf("%w; %w", lerr, bad)
	}
}

// appendPackets appends to dst the packets whose keys es lists, and
// returns an error for the first key that is not a packet key (left out).
func appendPackets(dst []Packet, es []iblt.Entry) ([]Packet, error) {
	var bad error
	dst = slices.Grow(dst, len(es))
	for _, e := range es {
		k, id, err := ParseKey(e.Key)
		if err != nil {
			if bad == nil {
				bad = fmt.Errorf("iblt kernel: a listed key is not a packet key, left out: %w", err)
			}
			continue
		}
		dst = append(dst, Packet{Flow: k, ID: id, Bytes: e.Value})
	}
	return dst, bad
}

// Stats are the kernel's counters summed over CPUs, counted since the
// Load (with [Options.PinPath], the Load that pinned the maps) or the last
// [Kernel.Reset]: a Flip does not reset them.
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
