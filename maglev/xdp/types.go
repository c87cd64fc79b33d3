package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/maglev"
)

// Sizes shared with maglev.bpf.c (a test compares them with the spec).
const (
	// MaxVIPs is MAGLEV_MAX_VIPS: VIPs and tables.
	MaxVIPs = 256
	// MaxBackends is MAGLEV_MAX_BACKENDS: distinct backend addresses
	// over all VIPs (each has one set of statistics).
	MaxBackends = 4096
	// MaxMembers is MAGLEV_MAX_MEMBERS: backend slots, one per backend
	// of each VIP (a backend serving three VIPs takes three). It is the
	// most that connection-tracking entries can name (16 bits).
	MaxMembers = 65536
	// DefaultMTU is the largest outer IP packet sent when Options.MTU is 0.
	DefaultMTU = 1500
	// DefaultConns is the connection table size when Options.ConnTrack is
	// set and Options.Conns is 0.
	DefaultConns = 65536
	// DefaultFrags is the fragment table size when Options.Frags is 0.
	DefaultFrags = 16384
)

// maxTableEntries is the most entries Options.Conns and Options.Frags accept.
const maxTableEntries = 1 << 24

// Verdicts (the kernel's XDP actions).
const (
	Drop uint32 = 1 // XDP_DROP
	Pass uint32 = 2 // XDP_PASS
	TX   uint32 = 3 // XDP_TX
)

// Options configure the kernel at load time.
type Options struct {
	// Seed is the flow-hash seed, as in [flow.Key.Hash].
	Seed uint64
	// Table is the Maglev table configuration of every VIP (size and
	// backend-name seed); Size 0 means maglev.DefaultSize.
	Table maglev.Params
	// ConnTrack turns on connection tracking (Maglev section 3.3): the
	// first packet of a flow records its backend in an LRU map, and later
	// packets go there while the backend stays a backend of the VIP they
	// match, whatever that VIP's table says.
	ConnTrack bool
	// Conns is the size of the connection table; 0 means DefaultConns.
	// Without ConnTrack the table is not used and has one entry.
	Conns int
	// MTU is the largest outer IP packet the kernel sends; larger packets
	// are dropped and counted (DropTooBig), whether the inner DF bit is
	// set or not: the kernel neither fragments nor sends the client an
	// ICMP error. 0 means DefaultMTU. It is in [68, 65535] (IPv4's
	// minimum to the largest IP packet), and at least 1280, IPv6's
	// minimum link MTU (RFC 8200 section 5), for a load balancer with
	// IPv6 backends: SetVIP refuses IPv6 backends below that.
	MTU int
	// Frags is the size of the fragment table (an LRU map of fragmented
	// datagrams whose first fragment was sent, see the package
	// documentation); 0 means DefaultFrags. It needs room for the
	// datagrams whose fragments are in flight at once.
	Frags int
}

func (o Options) mtu() int {
	if o.MTU == 0 {
		return DefaultMTU
	}
	return o.MTU
}

func (o Options) conns() int {
	if o.Conns == 0 {
		return DefaultConns
	}
	return o.Conns
}

func (o Options) frags() int {
	if o.Frags == 0 {
		return DefaultFrags
	}
	return o.Frags
}

func (o Options) size() uint32 {
	if o.Table.Size == 0 {
		return maglev.DefaultSize
	}
	return o.Table.Size
}

// Validate checks the options as Load does before it loads anything, so
// without privileges or a BPF-capable kernel (on any OS), and returns the
// error Load would return for them, or nil.
func (o Options) Validate() error {
	if err := o.Table.Validate(); err != nil {
		return fmt.Errorf("maglev kernel: %w", err)
	}
	if o.MTU != 0 && (o.MTU < 68 || o.MTU > 65535) {
		return fmt.Errorf("maglev kernel: MTU must be in [68, 65535], got %d", o.MTU)
	}
	if o.Conns < 0 || o.Conns > maxTableEntries {
		return fmt.Errorf("maglev kernel: Conns must be in [0, %d], got %d", maxTableEntries, o.Conns)
	}
	if o.Frags < 0 || o.Frags > maxTableEntries {
		return fmt.Errorf("maglev kernel: Frags must be in [0, %d] (0: %d), got %d", maxTableEntries, DefaultFrags, o.Frags)
	}
	return nil
}

// ErrNoSource is wrapped by SetVIP when a backend's address family has no
// outer source address in the Config (Src4 for IPv4 backends, Src6 for
// IPv6 backends; no SetConfig yet counts as none), and by SetConfig when
// the new Config drops a source that an installed VIP's backends need.
// The kernel never encapsulates from an all-zero source: it drops such
// packets and counts them in [Counters].DropNoSource.
var ErrNoSource = errors.New("maglev kernel: no outer source address")

// Config is the load balancer's own identity on the wire. Set it before
// the VIPs: [LB.SetVIP] needs the outer source of each backend's family.
type Config struct {
	SrcMAC net.HardwareAddr // source MAC of sent frames (the interface's)
	DstMAC net.HardwareAddr // next hop's MAC
	Src4   netip.Addr       // outer IPv4 source (needed for IPv4 backends)
	Src6   netip.Addr       // outer IPv6 source (needed for IPv6 backends)
}

func (c Config) validate() error {
	if len(c.SrcMAC) != 6 || len(c.DstMAC) != 6 {
		return fmt.Errorf("maglev kernel: MACs must be 6 bytes, got %d and %d", len(c.SrcMAC), len(c.DstMAC))
	}
	if c.Src4.IsValid() && (!c.Src4.Is4() || c.Src4.IsUnspecified()) {
		return fmt.Errorf("maglev kernel: Src4 must be a specified IPv4 address (or unset), got %v", c.Src4)
	}
	if c.Src6.IsValid() && (!c.Src6.Is6() || c.Src6.Is4In6() || c.Src6.IsUnspecified() || c.Src6.Zone() != "") {
		return fmt.Errorf("maglev kernel: Src6 must be a specified IPv6 address without zone (or unset), got %v", c.Src6)
	}
	return nil
}

// hasSource reports whether c has an outer source for backend a's family.
func (c Config) hasSource(a netip.Addr) bool {
	if a.Is4() {
		return c.Src4.IsValid()
	}
	return c.Src6.IsValid()
}

// checkSources returns an error wrapping ErrNoSource if c lacks the outer
// source of some backend of t, installed or about to be for v.
func checkSources(c Config, v VIP, t *maglev.Table) error {
	for i := 0; i < t.Len(); i++ {
		a := netip.MustParseAddr(t.Backend(i).Name)
		if !c.hasSource(a) {
			field := "Src6"
			if a.Is4() {
				field = "Src4"
			}
			return fmt.Errorf("%w: VIP %v: backend %v needs Config.%s; call SetConfig with it first", ErrNoSource, v, a, field)
		}
	}
	return nil
}

// minMTU6 is IPv6's minimum link MTU (RFC 8200 section 5).
const minMTU6 = 1280

// checkInstall returns the error SetVIP (of LB and Model) gives for table
// t of v under Config c and Options o: a backend whose family c has no
// outer source for (checkSources), or an IPv6 backend while the MTU is
// below IPv6's minimum link MTU. No IPv6 path is that narrow, so such an
// MTU is a mistake that would drop every packet above it for no reason.
func checkInstall(c Config, o Options, v VIP, t *maglev.Table) error {
	if err := checkSources(c, v, t); err != nil || o.mtu() >= minMTU6 {
		return err
	}
	for i := 0; i < t.Len(); i++ {
		if a := netip.MustParseAddr(t.Backend(i).Name); !a.Is4() {
			return fmt.Errorf("maglev kernel: VIP %v: IPv6 backend %v needs Options.MTU of at least %d (IPv6's minimum link MTU), loaded with %d",
				v, a, minMTU6, o.mtu())
		}
	}
	return nil
}

// VIP is what the load balancer serves: packets whose destination is Addr,
// Port and Proto. Proto is required: a VIP serves one protocol (a VIP per
// protocol serves several), and SetVIP refuses protocol 0 beside an
// address. Port 0 serves every port of Addr. Only TCP and UDP have ports
// (the flow keys of other protocols have zero ports), so a VIP of another
// protocol has port 0. The zero VIP (invalid Addr) matches every IP packet
// that no other VIP matches.
type VIP struct {
	Addr  netip.Addr
	Port  uint16
	Proto uint8
}

func (v VIP) validate() error {
	if !v.Addr.IsValid() {
		if v.Port != 0 || v.Proto != 0 {
			return fmt.Errorf("maglev kernel: the catch-all VIP has no port or protocol, got %d/%d", v.Port, v.Proto)
		}
		return nil
	}
	if v.Addr.Is4In6() || v.Addr.Zone() != "" {
		return fmt.Errorf("maglev kernel: VIP address must be plain IPv4 or IPv6, got %v", v.Addr)
	}
	if v.Proto == 0 {
		return fmt.Errorf("maglev kernel: VIP %v has protocol 0, which no traffic carries (a VIP matches one protocol): set Proto, to TCP (%d), UDP (%d) or another protocol's number with port 0, and add a VIP per protocol to serve",
			v, flow.ProtoTCP, flow.ProtoUDP)
	}
	if v.Port != 0 && v.Proto != flow.ProtoTCP && v.Proto != flow.ProtoUDP {
		return fmt.Errorf("maglev kernel: VIP %v: a port needs protocol TCP (%d) or UDP (%d), the only ones whose flow keys carry ports; port 0 serves every packet of protocol %d",
			v, flow.ProtoTCP, flow.ProtoUDP, v.Proto)
	}
	return nil
}

// String returns "*" for the catch-all VIP, else address:port/protocol,
// an IPv6 address in brackets: 198.51.100.1:80/6, [2001:db8::1]:0/17.
func (v VIP) String() string {
	if !v.Addr.IsValid() {
		return "*"
	}
	return fmt.Sprintf("%v/%d", netip.AddrPortFrom(v.Addr, v.Port), v.Proto)
}

// Backend is a real server behind a VIP, by address: plain IPv4 or IPv6,
// not unspecified (0.0.0.0 or ::, which is no destination). Its name in
// the Maglev table is Addr.String().
type Backend struct {
	Addr netip.Addr
	// Weight is the backend's relative share of the VIP's table, as
	// maglev.Backend.Weight: zero drains it. It gets no new flows; with
	// Options.ConnTrack the flows tracked to it stay, without it every
	// flow it had moves to the backends left. A Backend literal without a
	// Weight is drained: a VIP whose backends all are has an empty table
	// and the kernel drops its new flows (DropNoBackend). [Backends] gives
	// each address weight 1.
	Weight uint32
}

// Backends returns one backend of weight 1 per address.
func Backends(addrs ...netip.Addr) []Backend {
	bs := make([]Backend, len(addrs))
	for i, a := range addrs {
		bs[i] = Backend{Addr: a, Weight: 1}
	}
	return bs
}

func tableBackends(bs []Backend) ([]maglev.Backend, error) {
	out := make([]maglev.Backend, len(bs))
	for i, b := range bs {
		if !b.Addr.IsValid() || b.Addr.Is4In6() || b.Addr.Zone() != "" || b.Addr.IsUnspecified() {
			return nil, fmt.Errorf("maglev kernel: backend %d: address must be plain IPv4 or IPv6, not unspecified, got %v", i, b.Addr)
		}
		out[i] = maglev.Backend{Name: b.Addr.String(), Weight: b.Weight}
	}
	return out, nil
}

// Counters are the kernel's packet counters, summed over CPUs.
type Counters struct {
	PassParse     uint64 // not parsed: passed
	PassVLAN      uint64 // VLAN-tagged: passed
	PassNotVIP    uint64 // no VIP: passed
	DropNoTable   uint64 // VIP without table
	DropNoBackend uint64 // VIP with no backend
	DropTooBig    uint64 // outer packet above the MTU
	DropEncap     uint64 // no room to encapsulate
	TX            uint64 // sent to a backend
	ConnHit       uint64 // backend from connection tracking
	DropNoSource  uint64 // no outer source address for the backend's family
	FragHit       uint64 // later fragment: its datagram's ports from the fragment table
	PassFragMiss  uint64 // later fragment not in the fragment table: passed
	ICMPQuote     uint64 // ICMP error balanced as the VIP flow it quotes
}

// BackendStats are what one backend received.
type BackendStats struct {
	Packets uint64 // packets sent to the backend
	Bytes   uint64 // encapsulated frame bytes
}

// Stats are the kernel's counters and per-backend statistics.
type Stats struct {
	Counters
	// Backends holds the statistics of every backend address that some
	// VIP has now.
	Backends map[netip.Addr]BackendStats
}

// vipKey returns the kernel's maglev_vip bytes for a VIP (20 bytes:
// addr[16], port in network order, proto, family).
func vipKey(v VIP) [20]byte {
	var k [20]byte
	if !v.Addr.IsValid() {
		return k
	}
	if v.Addr.Is4() {
		a := v.Addr.As4()
		copy(k[:], a[:])
		k[19] = 4
	} else {
		a := v.Addr.As16()
		copy(k[:], a[:])
		k[19] = 6
	}
	binary.BigEndian.PutUint16(k[16:], v.Port)
	k[18] = v.Proto
	return k
}

// vipsOf returns the key's exact VIP, the VIP of all its ports, and the
// catch-all, in the kernel's lookup order.
func vipsOf(k *flow.Key) [3]VIP {
	d := k.Dst()
	return [3]VIP{{d, k.DstPort(), k.Proto()}, {d, 0, k.Proto()}, {}}
}

// idFragMul is MAGLEV_ID_FRAG_MUL: the odd multiplier of the inner
// fragment offset in the outer IPv4 identification.
const idFragMul = 0x9e37

// ErrTooBig is returned by [Encapsulate] when the outer packet would
// exceed the MTU; the kernel drops such packets and counts them in
// [Counters].DropTooBig.
var ErrTooBig = errors.New("maglev kernel: encapsulated packet exceeds the MTU")

// Encapsulate returns the frame the kernel sends for frame going to
// backend: new MACs, an outer IPv4 header (protocol 4 or 41) or IPv6
// header (next header 4 or 41, flow label the low 20 bits of hash), then
// the original IP packet and anything after it. The outer type of service
// or traffic class is the inner packet's (its DSCP and ECN bits).
//
// frame must be an untagged Ethernet frame carrying an IPv4 or IPv6
// header, backend a valid IPv4 or IPv6 address, and c a Config that
// [LB.SetConfig] accepts holding the outer source of backend's family
// (Src4 or Src6: the kernel never sends from an all-zero source).
// Otherwise Encapsulate returns an error naming what is wrong (wrapping
// [ErrNoSource] for a missing source). It returns [ErrTooBig] when the
// outer packet would exceed mtu.
//
// The outer IPv4 header copies the inner DF bit (RFC 2003 section 3.1).
// With DF set (an inner IPv6 packet counts as DF set) its identification
// is 0; with DF clear it is inner ID + uint16(hash>>16) + inner fragment
// offset * 0x9e37, mod 2^16 (see the package documentation).
func Encapsulate(frame []byte, hash uint64, backend netip.Addr, c Config, mtu int) ([]byte, error) {
	// An unchecked Config made a frame without MACs (nil MACs) or panicked
	// deep inside (an IPv6 Src4).
	if err := c.validate(); err != nil {
		return nil, err
	}
	if !backend.IsValid() {
		return nil, errors.New("maglev kernel: backend is the zero netip.Addr, want an IPv4 or IPv6 address")
	}
	if !c.hasSource(backend) {
		field := "Src6"
		if backend.Is4() {
			field = "Src4"
		}
		return nil, fmt.Errorf("%w: backend %v needs Config.%s", ErrNoSource, backend, field)
	}
	if err := checkEncapFrame(frame); err != nil {
		return nil, err
	}
	avail := len(frame) - 14
	ip := frame[14:]
	var inner int
	var proto byte
	df, id := byte(0x40), uint16(0)
	var tos byte // the inner DSCP and ECN bits
	if ip[0]>>4 == 6 {
		pl := int(binary.BigEndian.Uint16(ip[4:]))
		inner = 40 + pl
		if pl == 0 {
			inner = avail
		}
		proto = 41
		tos = ip[0]<<4 | ip[1]>>4
	} else {
		inner = int(binary.BigEndian.Uint16(ip[2:]))
		proto = 4
		tos = ip[1]
		if ip[6]&0x40 == 0 {
			frag := binary.BigEndian.Uint16(ip[6:]) & 0x1fff
			df = 0
			id = binary.BigEndian.Uint16(ip[4:]) + uint16(hash>>16) + frag*idFragMul
		}
	}
	inner = min(inner, avail)
	encap := 20
	if backend.Is6() {
		encap = 40
	}
	if inner+encap > mtu {
		return nil, fmt.Errorf("%w: %d bytes of IP packet and %d of outer header, MTU %d", ErrTooBig, inner, encap, mtu)
	}
	out := make([]byte, 0, len(frame)+encap)
	out = append(out, c.DstMAC...)
	out = append(out, c.SrcMAC...)
	if backend.Is6() {
		out = append(out, 0x86, 0xdd)
		fl := uint32(hash) & 0xfffff
		out = append(out, 0x60|tos>>4, tos<<4|byte(fl>>16)&0x0f, byte(fl>>8), byte(fl))
		out = binary.BigEndian.AppendUint16(out, uint16(inner))
		out = append(out, proto, 64)
		s := c.Src6.As16()
		d := backend.As16()
		out = append(out, s[:]...)
		out = append(out, d[:]...)
	} else {
		out = append(out, 0x08, 0x00)
		h := make([]byte, 20)
		h[0] = 0x45
		h[1] = tos
		binary.BigEndian.PutUint16(h[2:], uint16(inner+20))
		binary.BigEndian.PutUint16(h[4:], id)
		h[6] = df
		h[8] = 64
		h[9] = proto
		s := c.Src4.As4()
		d := backend.As4()
		copy(h[12:], s[:])
		copy(h[16:], d[:])
		binary.BigEndian.PutUint16(h[10:], ipv4Checksum(h))
		out = append(out, h...)
	}
	return append(out, frame[14:]...), nil
}

// checkEncapFrame returns an error unless frame is an untagged Ethernet
// frame whose EtherType and IP version agree and which holds a whole
// fixed IP header: what Encapsulate reads.
func checkEncapFrame(frame []byte) error {
	if len(frame) >= 14+20 {
		et := binary.BigEndian.Uint16(frame[12:])
		v := frame[14] >> 4
		switch {
		case et == 0x0800 && v == 4 && frame[14]&0x0f >= 5:
			return nil
		case et == 0x86dd && v == 6 && len(frame) >= 14+40:
			return nil
		}
	}
	et := uint16(0)
	if len(frame) >= 14 {
		et = binary.BigEndian.Uint16(frame[12:])
	}
	return fmt.Errorf("maglev kernel: Encapsulate takes an untagged Ethernet frame of IPv4 (EtherType 0x0800, at least 34 bytes) or IPv6 (0x86dd, at least 54 bytes), got %d bytes of EtherType %#04x", len(frame), et)
}

// ipv4Checksum is the Internet checksum (RFC 1071) of a header whose
// checksum field is zero.
func ipv4Checksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// Model is the kernel written in Go: the same VIPs, tables, connection
// tracking, fragment tracking and encapsulation, for tests and
// simulations. Its connection and fragment tables never forget, where the
// kernel's LRU maps drop their oldest entries when full (and, being
// approximate LRU lists kept per CPU, not in an order the model could
// follow): size Options.Conns and Options.Frags above the flows and
// fragmented datagrams of a comparison. It refuses what [LB] refuses,
// including a SetVIP past MaxVIPs, MaxBackends or MaxMembers. Its zero
// value is not valid; use [NewModel]: the zero Model's SetConfig, SetVIP
// and DeleteVIP return an error saying so, and it passes every frame.
type Model struct {
	opts    Options
	cfg     Config
	vips    map[VIP]*modelVIP
	conns   map[flow.Key]uint64    // flow -> member it was tracked to
	frags   map[flow.Key]modelFrag // fragKey of a datagram -> its first fragment's ports
	members map[uint64]netip.Addr  // live members (a backend of a VIP)
	addrs   map[netip.Addr]int     // members per backend address
	next    uint64                 // next member id; ids are never reused
	stats   Stats                  // what the kernel's counters would say
}

// modelVIP is a VIP's table and its members: the kernel's backend slots,
// by an id that stands for the slot and its generation.
type modelVIP struct {
	table   *maglev.Table
	members map[netip.Addr]uint64
}

// errZeroModel is returned by the methods of the zero Model that return an
// error.
var errZeroModel = errors.New("maglev kernel: the zero Model is not valid (use NewModel)")

// NewModel returns a model of a kernel loaded with opts.
func NewModel(opts Options) (*Model, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Model{opts: opts, vips: map[VIP]*modelVIP{}, conns: map[flow.Key]uint64{}, frags: map[flow.Key]modelFrag{},
		members: map[uint64]netip.Addr{}, addrs: map[netip.Addr]int{}, stats: Stats{Backends: map[netip.Addr]BackendStats{}}}, nil
}

// Stats returns the counters and per-backend statistics the kernel would
// report after the frames given to [Model.Process], as [LB.Stats] does:
// backends are reported while some VIP has them, and one that left every
// VIP starts from zero if it comes back. DropNoTable and DropEncap stay 0:
// the model has no maps to miss and no headroom to lack.
func (m *Model) Stats() Stats {
	s := Stats{Counters: m.stats.Counters, Backends: map[netip.Addr]BackendStats{}}
	for a := range m.addrs {
		s.Backends[a] = m.stats.Backends[a]
	}
	return s
}

// modelFrag is a fragment-table value: the ports and protocol of a
// datagram's first fragment.
type modelFrag struct {
	sport, dport uint16
	proto        uint8
}

// fragKey is maglev_frag_key: the flow key of a fragment with the IP
// identification in place of the ports and, for IPv6, protocol 0 (IPv6
// reassembles by addresses and identification only, RFC 8200 section 4.5).
func fragKey(k flow.Key, id uint32) flow.Key {
	if k.Is4() {
		return flow.KeyFrom4(k.Src().As4(), k.Dst().As4(), uint16(id>>16), uint16(id), k.Proto())
	}
	return flow.KeyFrom16(k.Src().As16(), k.Dst().As16(), uint16(id>>16), uint16(id), 0)
}

// withPorts returns k with the ports and protocol of f.
func (f modelFrag) withPorts(k flow.Key) flow.Key {
	if k.Is4() {
		return flow.KeyFrom4(k.Src().As4(), k.Dst().As4(), f.sport, f.dport, f.proto)
	}
	return flow.KeyFrom16(k.Src().As16(), k.Dst().As16(), f.sport, f.dport, f.proto)
}

// SetConfig sets the addresses and MACs, as [LB.SetConfig].
func (m *Model) SetConfig(c Config) error {
	if m.vips == nil {
		return errZeroModel
	}
	if err := c.validate(); err != nil {
		return err
	}
	for v, st := range m.vips {
		if err := checkSources(c, v, st.table); err != nil {
			return err
		}
	}
	m.cfg = c
	return nil
}

// SetVIP builds the VIP's table from backends and installs it, as
// [LB.SetVIP].
func (m *Model) SetVIP(v VIP, backends []Backend) (*maglev.Table, error) {
	if m.vips == nil {
		return nil, errZeroModel
	}
	if err := v.validate(); err != nil {
		return nil, err
	}
	bs, err := tableBackends(backends)
	if err != nil {
		return nil, err
	}
	t, err := maglev.New(m.opts.Table, bs)
	if err != nil {
		return nil, fmt.Errorf("maglev kernel: VIP %v: %w", v, err)
	}
	if err := checkInstall(m.cfg, m.opts, v, t); err != nil {
		return nil, err
	}
	// A backend in the old and the new table of v stays the same member
	// and keeps its tracked flows; a new one is a new member; one that
	// left v is no member of v any more, whatever other VIPs it serves,
	// and flows tracked to it go back to v's table.
	nv := &modelVIP{table: t, members: map[netip.Addr]uint64{}}
	old := m.vips[v]
	if err := m.checkLimits(old, t); err != nil {
		return nil, err
	}
	for i := 0; i < t.Len(); i++ {
		a := netip.MustParseAddr(t.Backend(i).Name)
		if id, ok := old.member(a); ok {
			nv.members[a] = id
			continue
		}
		nv.members[a] = m.next
		m.members[m.next] = a
		m.addrs[a]++
		m.next++
	}
	if old != nil {
		for a, id := range old.members {
			if _, kept := nv.members[a]; !kept {
				m.dropMember(a, id)
			}
		}
	}
	m.vips[v] = nv
	return t, nil
}

// The limits SetVIP enforces, in the loader and the Model alike.
var (
	errTooManyVIPs  = fmt.Errorf("maglev kernel: at most %d VIPs", MaxVIPs)
	errTooManyAddrs = fmt.Errorf("maglev kernel: at most %d distinct backend addresses", MaxBackends)
	errTooManySlots = fmt.Errorf("maglev kernel: at most %d backend slots (backends summed over VIPs)", MaxMembers)
)

// checkLimits returns the error LB.SetVIP returns when table t, replacing
// old (nil for a new VIP), does not fit the kernel's maps: its new members
// need slots and its new addresses statistics entries before the members
// that leave are freed, and a new VIP needs a table (checked first).
func (m *Model) checkLimits(old *modelVIP, t *maglev.Table) error {
	if old == nil && len(m.vips) >= MaxVIPs {
		return errTooManyVIPs
	}
	slots, addrs := len(m.members), len(m.addrs)
	for i := 0; i < t.Len(); i++ {
		a := netip.MustParseAddr(t.Backend(i).Name)
		if _, ok := old.member(a); ok {
			continue
		}
		if m.addrs[a] == 0 {
			if addrs++; addrs > MaxBackends {
				return errTooManyAddrs
			}
		}
		if slots++; slots > MaxMembers {
			return errTooManySlots
		}
	}
	return nil
}

// dropMember forgets member id, of backend a.
func (m *Model) dropMember(a netip.Addr, id uint64) {
	delete(m.members, id)
	if m.addrs[a]--; m.addrs[a] <= 0 {
		delete(m.addrs, a)
		delete(m.stats.Backends, a)
	}
}

func (mv *modelVIP) member(a netip.Addr) (uint64, bool) {
	if mv == nil {
		return 0, false
	}
	id, ok := mv.members[a]
	return id, ok
}

// DeleteVIP stops balancing v, as [LB.DeleteVIP].
func (m *Model) DeleteVIP(v VIP) error {
	if m.vips == nil {
		return errZeroModel
	}
	mv := m.vips[v]
	if mv == nil {
		return fmt.Errorf("maglev kernel: no VIP %v", v)
	}
	for a, id := range mv.members {
		m.dropMember(a, id)
	}
	delete(m.vips, v)
	return nil
}

// Process runs one frame through the model and returns the verdict, the
// frame sent (for TX) and the backend chosen.
func (m *Model) Process(frame []byte) (verdict uint32, out []byte, backend netip.Addr) {
	info, err := flow.Parse(frame)
	if err != nil {
		m.forgetCutFirst(frame)
		m.stats.PassParse++
		return Pass, nil, netip.Addr{}
	}
	if info.VLANTags != 0 || info.L3Offset != 14 {
		m.stats.PassVLAN++
		return Pass, nil, netip.Addr{}
	}
	if info.Fragment == flow.LaterFragment {
		f, ok := m.frags[fragKey(info.Key, info.IPID)]
		if !ok {
			m.stats.PassFragMiss++
			return Pass, nil, netip.Addr{}
		}
		m.stats.FragHit++
		info.Key = f.withPorts(info.Key)
	}
	// An ICMP error about a packet of a VIP's flow goes where that flow
	// goes, balanced by the flow's key.
	if info.Fragment == flow.NotFragment {
		if q, ok := quotedFlow(frame, &info); ok && m.vipOf(&q) != nil {
			info.Key = q
			m.stats.ICMPQuote++
		}
	}
	verdict, out, backend = m.send(frame, &info)
	// A first fragment sent: its later fragments follow it. Not sent: its
	// datagram's entry goes, so that an earlier datagram's entry with the
	// same identification cannot capture its later fragments.
	if info.Fragment == flow.FirstFragment {
		k := info.Key
		if verdict == TX {
			m.frags[fragKey(k, info.IPID)] = modelFrag{k.SrcPort(), k.DstPort(), k.Proto()}
		} else {
			delete(m.frags, fragKey(k, info.IPID))
		}
	}
	return verdict, out, backend
}

// forgetCutFirst is maglev_forget_cut_first: for a frame that does not
// parse but shows a first fragment (MF set, offset 0) in an untagged IPv4
// header, or in an IPv6 fragment header right after the IPv6 header, it
// forgets its datagram's fragment entry, as for any first fragment not
// sent.
func (m *Model) forgetCutFirst(frame []byte) {
	if len(frame) < 14+20 {
		return
	}
	ip := frame[14:]
	switch {
	case frame[12] == 0x08 && frame[13] == 0x00:
		if ip[0]>>4 != 4 || ip[0]&0x0f < 5 || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0x2000 {
			return
		}
		k := flow.KeyFrom4([4]byte(ip[12:16]), [4]byte(ip[16:20]), 0, 0, ip[9])
		delete(m.frags, fragKey(k, uint32(binary.BigEndian.Uint16(ip[4:]))))
	case frame[12] == 0x86 && frame[13] == 0xdd:
		if len(ip) < 40+8 || ip[0]>>4 != 6 || ip[6] != 44 || binary.BigEndian.Uint16(ip[42:])&0xfff9 != 1 {
			return
		}
		k := flow.KeyFrom16([16]byte(ip[8:24]), [16]byte(ip[24:40]), 0, 0, 0)
		delete(m.frags, fragKey(k, binary.BigEndian.Uint32(ip[44:])))
	}
}

// vipOf is maglev_find_vip: the VIP of key k, nil for none.
func (m *Model) vipOf(k *flow.Key) *modelVIP {
	for _, v := range vipsOf(k) {
		if mv := m.vips[v]; mv != nil {
			return mv
		}
	}
	return nil
}

// send balances the parsed frame as maglev_send: the VIP, the backend and
// the encapsulated frame, or the verdict of the first check that fails.
func (m *Model) send(frame []byte, info *flow.Info) (verdict uint32, out []byte, backend netip.Addr) {
	mv := m.vipOf(&info.Key)
	if mv == nil {
		m.stats.PassNotVIP++
		return Pass, nil, netip.Addr{}
	}
	h := info.Key.Hash(m.opts.Seed)
	b, tracked := netip.Addr{}, false
	if m.opts.ConnTrack {
		// Followed only to a live member of the VIP the packet matches
		// now (the kernel's slot names its VIP's table).
		if id, ok := m.conns[info.Key]; ok {
			if a, live := m.members[id]; live {
				if mid, in := mv.members[a]; in && mid == id {
					b, tracked = a, true
					m.stats.ConnHit++
				}
			}
		}
	}
	if !tracked {
		i, ok := mv.table.Pick(h)
		if !ok {
			m.stats.DropNoBackend++
			return Drop, nil, netip.Addr{}
		}
		b = netip.MustParseAddr(mv.table.Backend(i).Name)
		if m.opts.ConnTrack {
			m.conns[info.Key] = mv.members[b]
		}
	}
	if !m.cfg.hasSource(b) {
		m.stats.DropNoSource++
		return Drop, nil, b
	}
	out, err := Encapsulate(frame, h, b, m.cfg, m.opts.mtu())
	if err != nil {
		// Only ErrTooBig is possible here: the frame parsed, the Config
		// passed SetConfig and the source was checked above.
		m.stats.DropTooBig++
		return Drop, nil, b
	}
	m.stats.TX++
	bs := m.stats.Backends[b]
	bs.Packets++
	bs.Bytes += uint64(len(out))
	m.stats.Backends[b] = bs
	return TX, out, b
}
