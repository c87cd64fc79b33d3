//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/maglev"
)

// LB is the loaded load balancer and its control plane. Its methods are
// safe for concurrent use. Close it when done. The zero LB is not valid:
// like a closed one, every method that returns an error returns one
// saying the load balancer is closed or was never loaded, Table returns
// nil, and Program returns nil (the zero LB) or the closed program, whose
// runs fail. Close may be called again.
type LB struct {
	// mu guards the maps and the program against Close: methods that
	// change the maps hold it, and those that only read them or run the
	// program (Stats, Run, Attach, Table) hold it for reading.
	mu      sync.RWMutex
	closed  atomic.Bool // set by Close, under mu
	opts    Options
	cfg     Config // as last set; the zero Config before SetConfig
	cfgCur  uint32 // the maglev_config entry the kernel reads (maglev_config_cur)
	cfgOld  uint64 // wait.Mark() when the other entry was last in use, 0 if never
	objs    maglevObjects
	inner   *ebpf.MapSpec // template of a table
	vips    map[VIP]*vipState
	tables  [MaxVIPs]bool // table ids in use
	stride  uint32        // table id t is at slot stride*t of maglev_tables (see Load)
	slots   ids           // backend slots (maglev_backends), one per member
	gens    []uint16      // per slot: its generation, even while it has a member, odd once freed
	freedIn []uint64      // per slot: wait.Mark() when it was last freed, 0 if never
	wait    *bpfload.Waiter
	addrs   map[netip.Addr]*addrStats
	statIDs ids // indexes of maglev_backend_stats, one per address
}

var errClosed = errors.New("maglev kernel: closed or never loaded (use Load)")

// ready returns errClosed for a closed LB or one not made by Load (the
// zero LB), whose maps and program are gone or nil. Every method calls it
// with mu held (for reading at least), so that Close cannot come between
// the check and the use of the maps or the program.
func (lb *LB) ready() error {
	if lb.closed.Load() || lb.objs.XdpMaglev == nil {
		return errClosed
	}
	return nil
}

// vipState is an installed VIP: its table id, Maglev table, inner map and
// the backend slot of each of its backends.
type vipState struct {
	id      uint32
	table   *maglev.Table
	inner   *ebpf.Map
	members map[netip.Addr]uint32
}

// addrStats is the statistics entry of a backend address, shared by its
// slots in every VIP that has it.
type addrStats struct {
	id   uint32
	refs int // slots of the address
}

// ids hands out indexes of a BPF array, least recently freed first
// (indexes never used come first, in order), so that a freed index is
// reused as late as possible: only once every other free index has been
// handed out since. (For backend slots, newSlot also waits for the
// program runs in progress before it rewrites a slot freed since the
// last wait, so no packet can still be reading the old value.)
type ids struct {
	used []bool
	ring []uint32 // ring of the free indexes, in the order they were freed
	head int      // position in ring of the least recently freed index
	n    int      // free indexes in the ring
}

func newIDs(n int) ids {
	s := ids{used: make([]bool, n), ring: make([]uint32, n), n: n}
	for i := range s.ring {
		s.ring[i] = uint32(i)
	}
	return s
}

func (s *ids) alloc() (uint32, bool) {
	if s.n == 0 {
		return 0, false
	}
	id := s.ring[s.head]
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	s.used[id] = true
	return id, true
}

// free returns id to the end of the ring; an index not in use is ignored.
func (s *ids) free(id uint32) {
	if !s.used[id] {
		return
	}
	s.used[id] = false
	s.ring[(s.head+s.n)%len(s.ring)] = id
	s.n++
}

// Spec returns the kernel's CollectionSpec with opts applied, for tests
// that load it themselves. It sizes maglev_tables for table t at slot t,
// which 32-bit kernels do not give a program as slot t (see [Load]).
func Spec(opts Options) (*ebpf.CollectionSpec, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	spec, err := loadMaglev()
	if err != nil {
		return nil, fmt.Errorf("load maglev kernel: %w", err)
	}
	ct := uint32(0)
	if opts.ConnTrack {
		ct = 1
	}
	if err := bpfload.SetVars(spec, "maglev", map[string]any{
		maglevVarMaglevSeed:      opts.Seed,
		maglevVarMaglevSize:      opts.size(),
		maglevVarMaglevConntrack: ct,
		maglevVarMaglevMtu:       uint32(opts.mtu()),
	}); err != nil {
		return nil, err
	}
	spec.Maps[maglevMapMaglevTables].InnerMap.MaxEntries = opts.size()
	// Without tracking the kernel never touches the connection map (the
	// verifier prunes its uses): one entry instead of a preallocated
	// LRU table of megabytes.
	spec.Maps[maglevMapMaglevConns].MaxEntries = 1
	if opts.ConnTrack {
		spec.Maps[maglevMapMaglevConns].MaxEntries = uint32(opts.conns())
	}
	spec.Maps[maglevMapMaglevFrags].MaxEntries = uint32(opts.frags())
	return spec, nil
}

// Load loads the kernel. The error matches [ebpf.ErrNotSupported] where
// BPF is unavailable and [os.ErrPermission] without the privileges the
// package doc lists, and carries the verifier log if the kernel rejects
// the program.
//
// The balancer keeps each VIP's table in an array of maps. On 32-bit
// kernels Linux's array of maps gives a program slot 2i's map when it
// asks for slot i (seen on Debian 12's 32-bit x86 kernel, 6.1), so there
// Load makes the array twice as long and the balancer stores table t at
// slot 2t, where the program finds it. Load checks which the kernel does
// by storing maps in a small array and looking them up from a small
// program first, and refuses a kernel that answers in any other way.
func Load(opts Options) (*LB, error) {
	spec, err := Spec(opts)
	if err != nil {
		return nil, err
	}
	stride, err := outerStride()
	if err != nil {
		return nil, fmt.Errorf("load maglev kernel: %w", err)
	}
	spec.Maps[maglevMapMaglevTables].MaxEntries *= stride
	lb := &LB{opts: opts, vips: map[VIP]*vipState{}, addrs: map[netip.Addr]*addrStats{},
		slots: newIDs(MaxMembers), gens: make([]uint16, MaxMembers), freedIn: make([]uint64, MaxMembers),
		statIDs: newIDs(MaxBackends), stride: stride}
	lb.inner = spec.Maps[maglevMapMaglevTables].InnerMap.Copy()
	if lb.wait, err = bpfload.NewWaiter(); err != nil {
		return nil, fmt.Errorf("load maglev kernel: %w", err)
	}
	if err := bpfload.Load(spec, "maglev", &lb.objs); err != nil {
		lb.wait.Close()
		return nil, err
	}
	return lb, nil
}

// tableSlot returns the slot of maglev_tables at which the program finds
// table id (see Load).
func (lb *LB) tableSlot(id uint32) uint32 { return id * lb.stride }

// Program returns the XDP program, for attaching or test runs. It stays
// owned by lb.
func (lb *LB) Program() *ebpf.Program { return lb.objs.XdpMaglev }

// Attach attaches the program to the interface with the given index, in
// the XDP mode flags ask for (0: native where the driver has it, generic
// otherwise). An index that names no interface of the calling thread's
// network namespace is an error saying so. Close the link to detach.
//
// The balancer sends its frames back out of the interface (XDP_TX). On a
// veth in native mode those frames reach the peer only if the peer runs
// an XDP program too (any, even one that passes everything); without
// one, Linux drops them, and [LB.Stats] still counts them as sent. Generic
// mode has no such condition. See the README on MTUs and GRO.
func (lb *LB) Attach(ifindex int, flags link.XDPAttachFlags) (link.Link, error) {
	lb.mu.RLock()
	defer lb.mu.RUnlock()
	if err := lb.ready(); err != nil {
		return nil, err
	}
	return bpfload.Attach(lb.objs.XdpMaglev, "maglev", ifindex, flags)
}

// SetConfig writes the MACs and outer source addresses. Packets in
// flight send with the old or the new Config, never a mix of the two (see
// the package documentation); a SetConfig soon after another may wait for
// an RCU grace period. It refuses, with an error wrapping [ErrNoSource], a
// Config without the outer source of a family that an installed VIP's
// backends use.
func (lb *LB) SetConfig(c Config) error {
	if err := c.validate(); err != nil {
		return err
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if err := lb.ready(); err != nil {
		return err
	}
	for v, st := range lb.vips {
		if err := checkSources(c, v, st.table); err != nil {
			return err
		}
	}
	var v maglevMaglevCfg
	copy(v.SrcMac[:], c.SrcMAC)
	copy(v.DstMac[:], c.DstMAC)
	if c.Src4.IsValid() {
		v.Src4 = c.Src4.As4()
	}
	if c.Src6.IsValid() {
		v.Src6 = c.Src6.As16()
	}
	// The kernel reads the entry maglev_config_cur names: write the other
	// one, once no program run can still be reading it, then switch.
	next := 1 - lb.cfgCur
	if err := lb.wait.WaitSince(lb.cfgOld); err != nil {
		return fmt.Errorf("maglev kernel: write config: %w", err)
	}
	if err := lb.objs.MaglevConfig.Put(next, &v); err != nil {
		return fmt.Errorf("maglev kernel: write config: %w", err)
	}
	if err := lb.objs.MaglevConfigCur.Put(uint32(0), next); err != nil {
		return fmt.Errorf("maglev kernel: switch config: %w", err)
	}
	lb.cfgCur, lb.cfgOld = next, lb.wait.Mark()
	lb.cfg = c
	return nil
}

// SetVIP builds the Maglev table of backends for v and installs it with
// one atomic swap of the VIP's table: packets in flight see the old or
// the new table, never a mix. Each backend of v has its own backend slot
// (a backend serving other VIPs too has one there as well): the slots of
// backends new to v are written before the swap, and those of backends
// that left v are freed after it, so flows of v tracked to a backend that
// left v go back to v's table while flows of other VIPs stay on it. It
// returns the table, whose Pick tells which backend a flow hash goes to.
// It refuses, with an error wrapping [ErrNoSource], backends of a family
// whose outer source the Config lacks: call SetConfig first. It refuses
// IPv6 backends when Options.MTU is below 1280, IPv6's minimum link MTU.
// As the slots and statistics entries of backends new to v are taken
// before those of backends that left v are freed, the new ones must fit
// [MaxMembers] and [MaxBackends] beside the old; a refused SetVIP leaves v
// as it was.
func (lb *LB) SetVIP(v VIP, backends []Backend) (*maglev.Table, error) {
	if err := v.validate(); err != nil {
		return nil, err
	}
	bs, err := tableBackends(backends)
	if err != nil {
		return nil, err
	}
	t, err := maglev.New(lb.opts.Table, bs)
	if err != nil {
		return nil, fmt.Errorf("maglev kernel: VIP %v: %w", v, err)
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if err := lb.ready(); err != nil {
		return nil, err
	}
	if err := checkInstall(lb.cfg, lb.opts, v, t); err != nil {
		return nil, err
	}

	// 1. The VIP's table id (a free one for a new VIP), then slots for
	// the new table's backends: kept for those already in v's table, new
	// ones (written before any table can point at them, naming the table
	// id) for the others.
	old := lb.vips[v]
	var id uint32
	if old != nil {
		id = old.id
	} else {
		id = MaxVIPs
		for i, u := range lb.tables {
			if !u {
				id = uint32(i)
				break
			}
		}
		if id == MaxVIPs {
			return nil, errTooManyVIPs
		}
	}
	members := make(map[netip.Addr]uint32, t.Len())
	slotOf := make([]uint32, t.Len()) // per backend index of t
	taken := map[netip.Addr]uint32{}
	undo := func() {
		for a, s := range taken {
			lb.freeSlot(s, a, id)
		}
	}
	for i := range slotOf {
		a := netip.MustParseAddr(t.Backend(i).Name)
		s, ok := uint32(0), false
		if old != nil {
			s, ok = old.members[a]
		}
		if !ok {
			s, err = lb.newSlot(a, id)
			if err != nil {
				undo()
				return nil, err
			}
			taken[a] = s
		}
		members[a] = s
		slotOf[i] = s
	}
	// 2. A new inner map with the entries translated to slots.
	inner, err := ebpf.NewMap(lb.inner)
	if err != nil {
		undo()
		return nil, fmt.Errorf("maglev kernel: create table: %w", err)
	}
	keys := make([]uint32, t.Size())
	vals := make([]uint32, t.Size())
	for j := range keys {
		keys[j] = uint32(j)
		e := t.Entry(j)
		if e != maglev.NoBackend {
			e = slotOf[e]
		}
		vals[j] = e
	}
	if _, err := inner.BatchUpdate(keys, vals, nil); err != nil {
		// Older kernels: one by one.
		for j := range keys {
			if err := inner.Put(keys[j], vals[j]); err != nil {
				inner.Close()
				undo()
				return nil, fmt.Errorf("maglev kernel: fill table: %w", err)
			}
		}
	}
	// 3. The swap: one update of the outer array, then the VIP entry
	// (new VIPs only).
	if err := lb.objs.MaglevTables.Put(lb.tableSlot(id), inner); err != nil {
		inner.Close()
		undo()
		return nil, fmt.Errorf("maglev kernel: swap table: %w", err)
	}
	if old == nil {
		k := vipKey(v)
		info := maglevMaglevVipInfo{Table: id}
		// The kind's bit goes in before the entry, so the kernel never
		// skips the lookup that would find it.
		err := lb.writeKinds(v.kind())
		if err == nil {
			err = lb.objs.MaglevVips.Put(k, &info)
		}
		if err != nil {
			_ = lb.writeKinds(0)
			_ = lb.objs.MaglevTables.Delete(lb.tableSlot(id))
			inner.Close()
			undo()
			return nil, fmt.Errorf("maglev kernel: add VIP %v: %w", v, err)
		}
		lb.tables[id] = true
	}
	// 4. Release what the old table held: its map, and the slots of the
	// backends that left v.
	if old != nil {
		old.inner.Close()
		for a, s := range old.members {
			if _, kept := members[a]; !kept {
				lb.freeSlot(s, a, id)
			}
		}
	}
	lb.vips[v] = &vipState{id: id, table: t, inner: inner, members: members}
	return t, nil
}

// DeleteVIP stops balancing v (its packets pass to the stack).
func (lb *LB) DeleteVIP(v VIP) error {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if err := lb.ready(); err != nil {
		return err
	}
	st := lb.vips[v]
	if st == nil {
		return fmt.Errorf("maglev kernel: no VIP %v", v)
	}
	k := vipKey(v)
	if err := lb.objs.MaglevVips.Delete(k); err != nil {
		return fmt.Errorf("maglev kernel: delete VIP %v: %w", v, err)
	}
	_ = lb.objs.MaglevTables.Delete(lb.tableSlot(st.id))
	st.inner.Close()
	lb.tables[st.id] = false
	for a, s := range st.members {
		lb.freeSlot(s, a, st.id)
	}
	delete(lb.vips, v)
	// The entry is gone; dropping its kind's bit is an optimisation, and
	// a stale bit only costs the kernel a lookup that misses.
	return lb.writeKinds(0)
}

// kind is v's bit in the kernel's maglev_vip_kinds: exact, all ports, or
// the catch-all.
func (v VIP) kind() uint32 {
	switch {
	case !v.Addr.IsValid():
		return uint32(maglevMaglevVipKindMAGLEV_VIP_CATCH_ALL)
	case v.Port == 0:
		return uint32(maglevMaglevVipKindMAGLEV_VIP_ALL_PORTS)
	}
	return uint32(maglevMaglevVipKindMAGLEV_VIP_EXACT)
}

// writeKinds stores in the kernel which kinds of VIP exist: those of the
// installed VIPs plus extra (a kind about to be added).
func (lb *LB) writeKinds(extra uint32) error {
	kinds := extra
	for v := range lb.vips {
		kinds |= v.kind()
	}
	if err := lb.objs.MaglevVipKinds.Put(uint32(0), kinds); err != nil {
		return fmt.Errorf("maglev kernel: write VIP kinds: %w", err)
	}
	return nil
}

// Table returns the table installed for v, or nil.
func (lb *LB) Table(v VIP) *maglev.Table {
	lb.mu.RLock()
	defer lb.mu.RUnlock()
	if st := lb.vips[v]; st != nil {
		return st.table
	}
	return nil
}

// Slot generations (maglev_backend.gen, kept in lb.gens): even while the
// slot has a member, odd once it is freed. Each newSlot and each freeSlot
// moves a slot's generation on, so a connection-tracking entry, which
// the kernel makes with the even generation of a member's slot only,
// stops matching once that member leaves and never matches the slot's
// later members.

// newSlot gives a free backend slot to backend a as a member of the VIP
// whose table is table, and writes it, with a new (even) generation and
// a's statistics index. The slot is the one freed longest ago (see ids).
// A packet that copied the slot before freeSlot wrote its odd generation,
// through a connection-tracking entry, and was held up in the copy, could
// otherwise read the old generation beside the new member's address:
// newSlot first waits for such program runs to end (bpfload.Waiter) when
// no wait has come since the slot was freed, at most once for all the
// slots freed before it.
func (lb *LB) newSlot(a netip.Addr, table uint32) (uint32, error) {
	st := lb.addrs[a]
	if st == nil {
		sid, ok := lb.statIDs.alloc()
		if !ok {
			return 0, errTooManyAddrs
		}
		// Fresh counters for a fresh backend.
		zero := make([]maglevMaglevCounters, ebpf.MustPossibleCPU())
		if err := lb.objs.MaglevBackendStats.Put(sid, zero); err != nil {
			lb.statIDs.free(sid)
			return 0, fmt.Errorf("maglev kernel: reset counters of backend %v: %w", a, err)
		}
		st = &addrStats{id: sid}
		lb.addrs[a] = st
	}
	id, ok := lb.slots.alloc()
	if !ok {
		lb.unrefAddr(a, st)
		return 0, errTooManySlots
	}
	if err := lb.wait.WaitSince(lb.freedIn[id]); err != nil {
		lb.slots.free(id)
		lb.unrefAddr(a, st)
		return 0, fmt.Errorf("maglev kernel: reuse backend slot for %v: %w", a, err)
	}
	// A new generation, even: connection-tracking entries made for the
	// slot's earlier members stop matching.
	gen := lb.gens[id] + 1
	if gen%2 != 0 {
		gen++
	}
	be := slotValue(a, table, st.id, gen)
	if err := lb.objs.MaglevBackends.Put(id, &be); err != nil {
		lb.slots.free(id)
		lb.unrefAddr(a, st)
		return 0, fmt.Errorf("maglev kernel: write backend %v: %w", a, err)
	}
	lb.gens[id] = gen
	st.refs++
	return id, nil
}

// freeSlot frees slot id, of backend a as a member of the VIP whose table
// is table: it writes the slot's value again with only the generation
// moved on (to an odd one), so connection-tracking entries that still
// name the slot fall back to their VIP's table (and keep doing so once
// the slot is reused, as its generation changes again). The address,
// family, table and statistics index stay as they were: a map update is
// a plain copy, not atomic, and a packet on another CPU that has just
// found the slot live must still read the member's whole address, never
// a zeroed or half-zeroed one. Such a packet goes to the backend that was
// a member a moment ago, as it would have a moment earlier. Only the
// generation's low byte changes (even to odd never carries), so even a
// torn read sees the old member's value with the old or the new
// generation. The loader knows which slots are free (lb.slots); the
// kernel tells them by their odd generation.
func (lb *LB) freeSlot(id uint32, a netip.Addr, table uint32) {
	if st := lb.addrs[a]; st != nil {
		gen := lb.gens[id] | 1
		be := slotValue(a, table, st.id, gen)
		if err := lb.objs.MaglevBackends.Put(id, &be); err == nil {
			lb.gens[id] = gen
		}
		st.refs--
		lb.unrefAddr(a, st)
	}
	lb.freedIn[id] = lb.wait.Mark()
	lb.slots.free(id)
}

// slotValue is the maglev_backends value of backend a as a member of the
// VIP whose table is table, with statistics index stats and generation
// gen.
func slotValue(a netip.Addr, table, stats uint32, gen uint16) maglevMaglevBackend {
	be := maglevMaglevBackend{Gen: gen, Stats: stats, Table: uint8(table)}
	if a.Is4() {
		a4 := a.As4()
		copy(be.Addr[:], a4[:])
		be.Family = 4
	} else {
		be.Addr = a.As16()
		be.Family = 6
	}
	return be
}

// unrefAddr frees a's statistics index once no slot has a.
func (lb *LB) unrefAddr(a netip.Addr, st *addrStats) {
	if st.refs > 0 {
		return
	}
	lb.statIDs.free(st.id)
	delete(lb.addrs, a)
}

// Stats reads the counters and the per-backend statistics of the
// backends in use. Statistics are per backend address, shared by its
// slots in every VIP: they are kept while some VIP has the address (when
// it leaves one VIP but stays in another too), and an address that left
// every VIP is no longer reported and starts from zero if it comes back.
func (lb *LB) Stats() (Stats, error) {
	var s Stats
	lb.mu.RLock()
	defer lb.mu.RUnlock()
	if err := lb.ready(); err != nil {
		return s, err
	}
	var vals [maglevMaglevStatMAGLEV_STAT_MAX]uint64
	if err := bpfload.SumPerCPU(lb.objs.MaglevStats, vals[:]); err != nil {
		return s, fmt.Errorf("maglev kernel: read counters: %w", err)
	}
	s.Counters = Counters{
		PassParse: vals[maglevMaglevStatMAGLEV_STAT_PASS_PARSE], PassVLAN: vals[maglevMaglevStatMAGLEV_STAT_PASS_VLAN],
		PassNotVIP: vals[maglevMaglevStatMAGLEV_STAT_PASS_NOT_VIP], DropNoTable: vals[maglevMaglevStatMAGLEV_STAT_DROP_NO_TABLE],
		DropNoBackend: vals[maglevMaglevStatMAGLEV_STAT_DROP_NO_BACKEND], DropTooBig: vals[maglevMaglevStatMAGLEV_STAT_DROP_TOO_BIG],
		DropEncap: vals[maglevMaglevStatMAGLEV_STAT_DROP_ENCAP], TX: vals[maglevMaglevStatMAGLEV_STAT_TX],
		ConnHit: vals[maglevMaglevStatMAGLEV_STAT_CONN_HIT], DropNoSource: vals[maglevMaglevStatMAGLEV_STAT_DROP_NO_SOURCE],
		FragHit: vals[maglevMaglevStatMAGLEV_STAT_FRAG_HIT], PassFragMiss: vals[maglevMaglevStatMAGLEV_STAT_PASS_FRAG_MISS],
		ICMPQuote: vals[maglevMaglevStatMAGLEV_STAT_ICMP_QUOTE],
	}
	s.Backends = map[netip.Addr]BackendStats{}
	for a, st := range lb.addrs {
		var per []maglevMaglevCounters
		if err := lb.objs.MaglevBackendStats.Lookup(st.id, &per); err != nil {
			return s, fmt.Errorf("maglev kernel: read backend %v: %w", a, err)
		}
		var b BackendStats
		for _, c := range per {
			b.Packets += c.Packets
			b.Bytes += c.Bytes
		}
		s.Backends[a] = b
	}
	return s, nil
}

// Close frees the kernel (close links first). After Close every method
// that returns an error fails with one saying the load balancer is
// closed, and Close may be called again. Close of a nil *LB (a failed
// Load's) returns nil.
func (lb *LB) Close() error {
	if lb == nil {
		return nil
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.closed.Store(true)
	var errs []error
	for _, st := range lb.vips {
		errs = append(errs, st.inner.Close())
	}
	lb.vips = nil
	errs = append(errs, lb.objs.Close(), lb.wait.Close())
	return errors.Join(errs...)
}

// Run runs the program once on frame with BPF_PROG_TEST_RUN (no
// interface needed) and returns the verdict and the frame as the program
// left it. Frames must be 14 bytes (an Ethernet header) to 3520 bytes
// with 4 KiB pages (3328 on s390x: what a test run gives XDP in one
// buffer);
// others are an error naming the length. Newer kernels take longer frames
// but show the program only that much, so it would balance a cut packet.
func (lb *LB) Run(frame []byte) (verdict uint32, out []byte, err error) {
	lb.mu.RLock()
	defer lb.mu.RUnlock()
	if err := lb.ready(); err != nil {
		return 0, nil, err
	}
	if len(frame) < 14 {
		return 0, nil, fmt.Errorf("maglev kernel: test run frames must be at least 14 bytes (an Ethernet header), got %d", len(frame))
	}
	if n := bpfload.MaxFrame(); len(frame) > n {
		return 0, nil, fmt.Errorf("maglev kernel: test run frames must be at most %d bytes (what a test run gives XDP in one buffer), got %d", n, len(frame))
	}
	buf := make([]byte, len(frame)+256)
	opts := ebpf.RunOptions{Data: frame, DataOut: buf, Repeat: 1}
	v, err := lb.objs.XdpMaglev.Run(&opts)
	if err != nil {
		return 0, nil, fmt.Errorf("maglev kernel: test run on a %d-byte frame: %w", len(frame), err)
	}
	return v, opts.DataOut, nil
}
