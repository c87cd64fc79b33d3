//go:build linux

package xdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/internal/traffic"
	"github.com/dataplane-go/dataplane/maglev"
)

var testConfig = Config{
	SrcMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x10},
	DstMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x20},
	Src4:   netip.MustParseAddr("192.0.2.1"),
	Src6:   netip.MustParseAddr("2001:db8:ffff::1"),
}

// pair is a kernel and its Go model, configured alike.
type pair struct {
	lb    *LB
	model *Model
}

func load(t testing.TB, opts Options) pair {
	t.Helper()
	kerneltest.Require(t)
	lb, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	m, err := NewModel(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := lb.SetConfig(testConfig); err != nil {
		t.Fatal(err)
	}
	if err := m.SetConfig(testConfig); err != nil {
		t.Fatal(err)
	}
	return pair{lb, m}
}

func (p pair) setVIP(t testing.TB, v VIP, bs []Backend) *maglev.Table {
	t.Helper()
	kt, err := p.lb.SetVIP(v, bs)
	if err != nil {
		t.Fatal(err)
	}
	mt, err := p.model.SetVIP(v, bs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(u32bytes(kt.AppendEntries(nil)), u32bytes(mt.AppendEntries(nil))) {
		t.Fatal("kernel and model built different tables")
	}
	return kt
}

func u32bytes(v []uint32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	return b
}

func backends(addrs ...string) []Backend {
	bs := make([]Backend, len(addrs))
	for i, a := range addrs {
		bs[i] = Backend{Addr: netip.MustParseAddr(a), Weight: 1}
	}
	return bs
}

// outerDst returns the outer destination of an encapsulated frame.
func outerDst(f []byte) netip.Addr {
	if len(f) < 14+20 {
		return netip.Addr{}
	}
	if f[12] == 0x86 && f[13] == 0xdd && len(f) >= 14+40 {
		return netip.AddrFrom16([16]byte(f[14+24 : 14+40]))
	}
	return netip.AddrFrom4([4]byte(f[14+16 : 14+20]))
}

func TestSpec_Sizes(t *testing.T) {
	spec, err := Spec(Options{Table: maglev.Params{Size: 16381}, ConnTrack: true, Conns: 1000, Frags: 3000})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]uint32{
		maglevMapMaglevVips:         MaxVIPs,
		maglevMapMaglevTables:       MaxVIPs,
		maglevMapMaglevBackends:     MaxMembers,
		maglevMapMaglevBackendStats: MaxBackends,
		maglevMapMaglevConns:        1000,
		maglevMapMaglevFrags:        3000,
	} {
		if got := spec.Maps[name].MaxEntries; got != want {
			t.Errorf("map %s: %d entries, Go says %d", name, got, want)
		}
	}
	if got := spec.Maps[maglevMapMaglevTables].InnerMap.MaxEntries; got != 16381 {
		t.Errorf("table map: %d entries, want the table size 16381", got)
	}
	if got := spec.Maps[maglevMapMaglevTables].InnerMap.ValueSize; got != 4 {
		t.Errorf("table entries are %d bytes, maglev.Table entries are uint32", got)
	}
	if got := spec.Maps[maglevMapMaglevVips].KeySize; got != uint32(len(vipKey(VIP{}))) {
		t.Errorf("VIP key is %d bytes in C, %d in Go", got, len(vipKey(VIP{})))
	}
	if got, want := spec.Maps[maglevMapMaglevBackends].ValueSize, uint32(binary.Size(maglevMaglevBackend{})); got != want {
		t.Errorf("backend slot is %d bytes in C, %d in Go", got, want)
	}
	if got, want := spec.Maps[maglevMapMaglevFrags].ValueSize, uint32(binary.Size(maglevMaglevFrag{})); got != want || want != 8 {
		t.Errorf("fragment entry is %d bytes in C, %d in Go, want 8 (ports and protocol)", got, want)
	}
	if spec, err := Spec(Options{}); err != nil || spec.Maps[maglevMapMaglevFrags].MaxEntries != DefaultFrags {
		t.Errorf("default fragment table: %v entries (%v), want DefaultFrags", spec.Maps[maglevMapMaglevFrags].MaxEntries, err)
	}
	// The connection table costs memory only when tracking is on.
	for _, c := range []struct {
		o    Options
		want uint32
	}{{Options{}, 1}, {Options{Conns: 5000}, 1}, {Options{ConnTrack: true}, DefaultConns}} {
		if spec, err := Spec(c.o); err != nil || spec.Maps[maglevMapMaglevConns].MaxEntries != c.want {
			t.Errorf("%+v: connection table of %v entries (%v), want %d", c.o, spec.Maps[maglevMapMaglevConns].MaxEntries, err, c.want)
		}
	}
	if maglev.NoBackend != 0xffffffff {
		t.Error("maglev.NoBackend is not MAGLEV_NO_BACKEND")
	}
}

// checkOuter decodes an encapsulated frame with gopacket and checks the
// outer header: destination, protocol, length and (IPv4) checksum.
func checkOuter(t *testing.T, out []byte, backend netip.Addr, innerLen int) {
	t.Helper()
	p := gopacket.NewPacket(out, layers.LayerTypeEthernet, gopacket.Default)
	if backend.Is4() {
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip == nil {
			t.Fatalf("no outer IPv4 header: %v", p)
		}
		if !ip.DstIP.Equal(net.IP(backend.AsSlice())) || !ip.SrcIP.Equal(net.IP(testConfig.Src4.AsSlice())) {
			t.Fatalf("outer %v > %v, want %v > %v", ip.SrcIP, ip.DstIP, testConfig.Src4, backend)
		}
		if int(ip.Length) != innerLen+20 {
			t.Fatalf("outer length %d, want %d", ip.Length, innerLen+20)
		}
		got := ip.Checksum
		buf := gopacket.NewSerializeBuffer()
		cp := *ip
		cp.Options, cp.Padding = nil, nil
		if err := cp.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
			t.Fatal(err)
		}
		if cp.Checksum != got {
			t.Fatalf("outer checksum %#04x, gopacket computes %#04x", got, cp.Checksum)
		}
	} else {
		ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		if ip == nil {
			t.Fatalf("no outer IPv6 header: %v", p)
		}
		if !ip.DstIP.Equal(net.IP(backend.AsSlice())) || int(ip.Length) != innerLen {
			t.Fatalf("outer IPv6 to %v length %d, want %v length %d", ip.DstIP, ip.Length, backend, innerLen)
		}
	}
}

func TestKernel_Fixtures(t *testing.T) {
	p := load(t, Options{Seed: 7, Table: maglev.Params{Size: 251, Seed: 3}})
	vip4 := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	vip4u := VIP{netip.MustParseAddr("198.51.100.1"), 53, flow.ProtoUDP}
	vip6 := VIP{netip.MustParseAddr("2001:db8::80"), 443, flow.ProtoTCP}
	vipAll := VIP{netip.MustParseAddr("198.51.100.9"), 0, flow.ProtoUDP}
	p.setVIP(t, vip4, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	p.setVIP(t, vip4u, backends("2001:db8:1::1", "2001:db8:1::2")) // IPv4 in IPv6
	p.setVIP(t, vip6, backends("2001:db8:2::1", "2001:db8:2::2", "10.2.0.1"))
	p.setVIP(t, vipAll, backends("10.3.0.1"))
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.2"), 80, flow.ProtoTCP}, []Backend{{Addr: netip.MustParseAddr("10.9.0.1")}}) // drained

	tcp4 := func(src string) []byte { return pkt.TCP4(src, "198.51.100.1:80", pkt.SYN, []byte("GET /")) }
	for _, tc := range []struct {
		name    string
		frame   []byte
		verdict uint32
	}{
		// 203.0.113.5:40000 > 198.51.100.1:80 TCP SYN "GET /"
		{"tcp4 to VIP", tcp4("203.0.113.5:40000"), TX},
		{"tcp4 to VIP, other flow", tcp4("203.0.113.6:40001"), TX},
		// 203.0.113.5:5353 > 198.51.100.1:53 UDP, to IPv6 backends
		{"udp4 to VIP, IPv6 backend", pkt.UDP4("203.0.113.5:5353", "198.51.100.1:53", []byte("q")), TX},
		// [2001:db8::5]:40000 > [2001:db8::80]:443 TCP SYN
		{"tcp6 to VIP", pkt.TCP6("[2001:db8::5]:40000", "[2001:db8::80]:443", pkt.SYN, nil), TX},
		{"tcp6 to VIP, other flow", pkt.TCP6("[2001:db8::6]:40000", "[2001:db8::80]:443", pkt.SYN, nil), TX},
		// any UDP port of 198.51.100.9
		{"udp4 to all-ports VIP", pkt.UDP4("203.0.113.5:1", "198.51.100.9:9999", nil), TX},
		// 198.51.100.1:81 is not a VIP
		{"tcp4 other port", pkt.TCP4("203.0.113.5:40000", "198.51.100.1:81", pkt.SYN, nil), Pass},
		{"udp4 elsewhere", pkt.UDP4("203.0.113.5:5353", "192.0.2.53:53", nil), Pass},
		{"VIP without backend", pkt.TCP4("203.0.113.5:40000", "198.51.100.2:80", pkt.SYN, nil), Drop},
		{"VLAN-tagged VIP traffic", pkt.Frame{VLANs: []pkt.VLAN{{ID: 10}}, IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.1")},
			TCP: &pkt.TCP{SrcPort: 1, DstPort: 80}}.Bytes(), Pass},
		{"padded short frame", pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.1")},
			TCP: &pkt.TCP{SrcPort: 2, DstPort: 80}, Pad: 6}.Bytes(), TX},
		{"ARP", append(make([]byte, 12), 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1), Pass},
		{"truncated IPv4", pkt.TCP4("203.0.113.5:40000", "198.51.100.1:80", pkt.SYN, nil)[:30], Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verdict, out := kerneltest.Run(t, p.lb.Program(), tc.frame)
			mv, mout, mb := p.model.Process(tc.frame)
			if verdict != tc.verdict || mv != tc.verdict {
				t.Fatalf("verdict kernel %d, model %d, want %d", verdict, mv, tc.verdict)
			}
			if verdict != TX {
				return
			}
			if !bytes.Equal(out, mout) {
				t.Fatalf("kernel sent\n%x\nmodel sent\n%x", out, mout)
			}
			info, _ := flow.Parse(tc.frame)
			innerLen := len(tc.frame) - 14
			if info.Key.Len() == flow.KeyLen4 {
				innerLen = int(tc.frame[16])<<8 | int(tc.frame[17])
			}
			checkOuter(t, out, mb, innerLen)
			if !bytes.Equal(out[:6], testConfig.DstMAC) || !bytes.Equal(out[6:12], testConfig.SrcMAC) {
				t.Fatalf("MACs %x > %x", out[6:12], out[:6])
			}
		})
	}
	st, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, b := range st.Backends {
		sum += b.Packets
	}
	if st.TX != 7 || sum != st.TX || st.DropNoBackend != 1 || st.PassVLAN != 1 || st.PassNotVIP != 2 || st.PassParse != 2 {
		t.Fatalf("counters %+v, backend packets %d", st.Counters, sum)
	}
}

func TestKernel_TooBig(t *testing.T) {
	p := load(t, Options{MTU: 100})
	p.setVIP(t, VIP{}, backends("10.1.0.1"))
	small := pkt.UDP4("203.0.113.5:1", "198.51.100.1:2", make([]byte, 100-20-28)) // 80-byte inner + 20
	big := pkt.UDP4("203.0.113.5:1", "198.51.100.1:2", make([]byte, 100-20-28+1))
	for _, c := range []struct {
		f    []byte
		want uint32
	}{{small, TX}, {big, Drop}} {
		v, _ := kerneltest.Run(t, p.lb.Program(), c.f)
		mv, _, _ := p.model.Process(c.f)
		if v != c.want || mv != c.want {
			t.Fatalf("%d-byte frame: kernel %d model %d, want %d", len(c.f), v, mv, c.want)
		}
	}
}

// TestKernel_Replay runs every packet of every shared capture through the
// kernel and the model with a catch-all VIP over IPv4 and IPv6 backends:
// same verdict, same frame out (so the same backend), for every packet.
func TestKernel_Replay(t *testing.T) {
	files := traffic.Files(t)
	p := load(t, Options{Seed: 99, Table: maglev.Params{Size: 65537, Seed: 5}, MTU: 65535})
	p.setVIP(t, VIP{}, backends("10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"))
	// Datagrams whose first fragment was sent: (source, destination,
	// protocol, identification) -> backend. Every later fragment of theirs
	// must go to that backend too, or it could never be reassembled.
	type datagram struct {
		src, dst netip.Addr
		proto    uint8
		id       uint32
	}
	firsts := map[datagram]netip.Addr{}
	total, tx, together := 0, 0, 0
	for _, path := range files {
		for _, f := range traffic.Frames(t, path) {
			if len(f) < kerneltest.MinFrame {
				continue
			}
			f = kerneltest.Clip(f)
			v, out := kerneltest.Run(t, p.lb.Program(), f)
			mv, mout, _ := p.model.Process(f)
			if v != mv || (v == TX && !bytes.Equal(out, mout)) {
				t.Fatalf("%s: packet %d: kernel %d, model %d\nframe %x\nkernel %x\nmodel  %x", path, total, v, mv, f, out, mout)
			}
			total++
			if v == TX {
				tx++
			}
			info, err := flow.Parse(f)
			if err != nil || info.Fragment == flow.NotFragment {
				continue
			}
			d := datagram{info.Key.Src(), info.Key.Dst(), info.Key.Proto(), info.IPID}
			if info.Key.Is6() {
				d.proto = 0 // IPv6 reassembles by addresses and identification (RFC 8200 section 4.5)
			}
			switch {
			case info.Fragment == flow.FirstFragment && v == TX:
				firsts[d] = outerDst(out)
			case info.Fragment == flow.LaterFragment:
				if b, ok := firsts[d]; ok {
					if v != TX || outerDst(out) != b {
						t.Fatalf("%s: packet %d: a later fragment of %v id %#x: verdict %d to %v, its first fragment went to %v",
							path, total-1, info.Key, info.IPID, v, outerDst(out), b)
					}
					together++
				}
			}
		}
	}
	t.Logf("%d packets of %d captures compared, %d balanced, %d later fragments sent after their first, zero mismatches", total, len(files), tx, together)
	if tx == 0 {
		t.Fatal("no packet was balanced")
	}
	if st, err := p.lb.Stats(); err != nil || st.FragHit < uint64(together) {
		t.Fatalf("%d fragment-table hits (%v) for %d later fragments sent after their first", st.FragHit, err, together)
	}
}

// TestKernel_Swap swaps the table between two backend sets while packets
// flow: every packet must go to a backend of one of the two tables.
func TestKernel_Swap(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 16381}})
	a := backends("10.1.0.1", "10.1.0.2", "10.1.0.3")
	b := backends("10.1.0.3", "10.1.0.4", "2001:db8::5")
	allowed := map[netip.Addr]bool{}
	for _, x := range append(append([]Backend{}, a...), b...) {
		allowed[x.Addr] = true
	}
	v := VIP{}
	p.setVIP(t, v, a)
	var frames [][]byte
	for i := 0; i < 64; i++ {
		frames = append(frames, pkt.UDP4(fmt.Sprintf("203.0.113.%d:%d", i, 1000+i), "198.51.100.1:53", nil))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Value
	var runs atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			f := frames[i%len(frames)]
			opts := runOnce(p.lb, f)
			if opts.err != nil {
				bad.Store(opts.err.Error())
				return
			}
			if opts.verdict != TX || !allowed[outerDst(opts.out)] {
				bad.Store(fmt.Sprintf("verdict %d to %v", opts.verdict, outerDst(opts.out)))
				return
			}
			runs.Add(1)
		}
	}()
	for k := 0; k < 200; k++ {
		set := a
		if k%2 == 0 {
			set = b
		}
		if _, err := p.lb.SetVIP(v, set); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if s := bad.Load(); s != nil {
		t.Fatal(s)
	}
	t.Logf("%d packets during 200 swaps", runs.Load())
}

type runResult struct {
	verdict uint32
	out     []byte
	err     error
}

func runOnce(lb *LB, f []byte) runResult {
	out := make([]byte, len(f)+256)
	opts := ebpfRun(lb, f, out)
	return opts
}

// TestKernel_ConnTrack: flows seen before a backend is added keep their
// backend with connection tracking, while the new table alone would move
// some of them.
func TestKernel_ConnTrack(t *testing.T) {
	p := load(t, Options{ConnTrack: true, Table: maglev.Params{Size: 251}})
	v := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	p.setVIP(t, v, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	var frames [][]byte
	first := map[int]netip.Addr{}
	for i := 0; i < 300; i++ {
		f := pkt.TCP4(fmt.Sprintf("203.0.%d.%d:%d", i/200, i%200, 2000+i), "198.51.100.1:80", pkt.SYN, nil)
		frames = append(frames, f)
		verdict, out := kerneltest.Run(t, p.lb.Program(), f)
		_, mout, _ := p.model.Process(f)
		if verdict != TX || !bytes.Equal(out, mout) {
			t.Fatalf("flow %d: first packet differs from the model", i)
		}
		first[i] = outerDst(out)
	}
	nt := p.setVIP(t, v, backends("10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"))
	wouldMove := 0
	for i, f := range frames {
		info, _ := flow.Parse(f)
		j, _ := nt.Pick(info.Key.Hash(0))
		if netip.MustParseAddr(nt.Backend(j).Name) != first[i] {
			wouldMove++
		}
		verdict, out := kerneltest.Run(t, p.lb.Program(), f)
		_, mout, _ := p.model.Process(f)
		if verdict != TX || outerDst(out) != first[i] || !bytes.Equal(out, mout) {
			t.Fatalf("flow %d moved from %v to %v after a backend was added", i, first[i], outerDst(out))
		}
	}
	if wouldMove == 0 {
		t.Fatal("the new table moves no flow: the test proves nothing")
	}
	st, _ := p.lb.Stats()
	if st.ConnHit != uint64(len(frames)) {
		t.Fatalf("%d connection-table hits, want %d", st.ConnHit, len(frames))
	}
	t.Logf("%d of %d flows kept their backend thanks to connection tracking", wouldMove, len(frames))
}

// TestKernel_NoConnTrack: without Options.ConnTrack the kernel neither
// fills nor follows its connection table: it stays empty, and after a
// backend is added every flow goes where the new table picks, as in the
// model.
func TestKernel_NoConnTrack(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 251}})
	v := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	p.setVIP(t, v, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	var frames [][]byte
	for i := 0; i < 100; i++ {
		// 203.0.113.i:(2000+i) > 198.51.100.1:80 TCP SYN
		frames = append(frames, pkt.TCP4(fmt.Sprintf("203.0.113.%d:%d", i, 2000+i), "198.51.100.1:80", pkt.SYN, nil))
	}
	p.sendAll(t, "before", frames)
	if n := countConns(t, p.lb); n != 0 {
		t.Fatalf("%d connection-tracking entries without ConnTrack, want 0", n)
	}
	nt := p.setVIP(t, v, backends("10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"))
	got, want := p.sendAll(t, "after", frames), picks(nt, frames)
	for i := range frames {
		if got[i] != want[i] {
			t.Errorf("flow %d went to %v, the new table picks %v", i, got[i], want[i])
		}
	}
	if st := kernelCounters(t, p.lb); st.ConnHit != 0 {
		t.Errorf("%d connection-tracking hits without ConnTrack, want 0", st.ConnHit)
	}
}

func BenchmarkKernel(b *testing.B) {
	files := traffic.MainFiles(b)
	p := load(b, Options{Seed: 1, MTU: 65535})
	p.setVIP(b, VIP{}, backends("10.1.0.1", "10.1.0.2", "10.1.0.3", "2001:db8:1::1"))
	var frames [][]byte
	for _, path := range files {
		for _, f := range traffic.Frames(b, path) {
			if len(f) < kerneltest.MinFrame {
				continue
			}
			if v, _, _ := p.model.Process(kerneltest.Clip(f)); v == TX {
				frames = append(frames, f)
			}
		}
	}
	if len(frames) > 1024 {
		frames = frames[:1024]
	}
	b.Run("captures/catch-all-vip", func(b *testing.B) {
		kerneltest.BenchFresh(b, p.lb.Program(), frames, TX)
	})
	// The common case: TCP to one exact VIP, 1024 flows, minimum-size
	// frames.
	vip := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	p.setVIP(b, vip, backends("10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"))
	var syn [][]byte
	for i := 0; i < 1024; i++ {
		syn = append(syn, pkt.TCP4(fmt.Sprintf("203.0.%d.%d:%d", i>>8, i&255, 1024+i), "198.51.100.1:80", pkt.SYN, nil))
	}
	b.Run("tcp4-syn/exact-vip", func(b *testing.B) {
		kerneltest.BenchFresh(b, p.lb.Program(), syn, TX)
	})
}

// TestKernel_VIPKinds: the kernel skips the VIP lookups of kinds that no
// VIP has (maglev_vip_kinds); through adds and deletes of every kind, the
// map holds exactly the kinds installed, and every packet still gets the
// VIP the lookup order gives it.
func TestKernel_VIPKinds(t *testing.T) {
	p := load(t, Options{Seed: 7, Table: maglev.Params{Size: 251, Seed: 3}})
	exact := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	ports := VIP{netip.MustParseAddr("198.51.100.1"), 0, flow.ProtoTCP}
	all := VIP{}
	frames := map[string][]byte{
		"to exact":    pkt.TCP4("203.0.113.5:40000", "198.51.100.1:80", pkt.SYN, nil),
		"other port":  pkt.TCP4("203.0.113.5:40000", "198.51.100.1:81", pkt.SYN, nil),
		"elsewhere":   pkt.TCP4("203.0.113.5:40000", "192.0.2.1:80", pkt.SYN, nil),
		"elsewhere 6": pkt.TCP6("[2001:db8::5]:40000", "[2001:db8::80]:443", pkt.SYN, nil),
	}
	check := func(step string, want uint32) {
		t.Helper()
		var got uint32
		if err := p.lb.objs.MaglevVipKinds.Lookup(uint32(0), &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s: VIP kinds %03b, want %03b", step, got, want)
		}
		for name, f := range frames {
			kv, kout := kerneltest.Run(t, p.lb.Program(), f)
			mv, mout, _ := p.model.Process(f)
			if kv != mv || (kv == TX && !bytes.Equal(kout, mout)) {
				t.Fatalf("%s, %s: kernel verdict %d, model %d", step, name, kv, mv)
			}
		}
	}
	del := func(v VIP) {
		t.Helper()
		if err := p.lb.DeleteVIP(v); err != nil {
			t.Fatal(err)
		}
		if err := p.model.DeleteVIP(v); err != nil {
			t.Fatal(err)
		}
	}
	check("no VIPs", 0)
	p.setVIP(t, ports, backends("10.1.0.1", "10.1.0.2"))
	check("all ports", 2)
	p.setVIP(t, exact, backends("10.2.0.1", "10.2.0.2"))
	check("all ports and exact", 3)
	p.setVIP(t, all, backends("10.3.0.1"))
	check("every kind", 7)
	del(ports)
	check("exact and catch-all", 5)
	del(all)
	check("exact", 1)
	del(exact)
	check("none again", 0)
}

// TestKernel_ConnTrackSlotReuse: a tracked flow whose backend left its VIP
// must not follow the backend slot to whatever backend is given that slot
// later (here a backend of another VIP); it falls back to its VIP's table,
// as in the model.
func TestKernel_ConnTrackSlotReuse(t *testing.T) {
	if testing.Short() {
		t.Skip("fills every backend slot")
	}
	p := load(t, Options{ConnTrack: true, Table: maglev.Params{Size: 1021}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	p.setVIP(t, x, backends("10.1.0.1")) // slot 0
	// 203.0.113.5:40000 > 198.51.100.1:80 TCP SYN: tracked to 10.1.0.1
	f := pkt.TCP4("203.0.113.5:40000", "198.51.100.1:80", pkt.SYN, nil)
	if v, out := kerneltest.Run(t, p.lb.Program(), f); v != TX || outerDst(out) != netip.MustParseAddr("10.1.0.1") {
		t.Fatalf("first packet: verdict %d to %v", v, outerDst(out))
	}
	p.model.Process(f)
	p.setVIP(t, x, backends("10.1.0.2")) // slot 1; 10.1.0.1's slot 0 is free now
	// Use every other slot (MaxMembers-2 of them, in 254 VIPs over a pool
	// of 4000 addresses), so the next new member gets slot 0, the only
	// free one.
	left, pool := MaxMembers-2, 4000
	for k, vips := 0, MaxVIPs-2; k < vips; k++ {
		n := left / (vips - k)
		many := make([]Backend, n)
		for i := range many {
			a := (k*300 + i) % pool
			many[i] = Backend{Addr: netip.AddrFrom4([4]byte{10, 2, byte(a >> 8), byte(a)}), Weight: 1}
		}
		p.setVIP(t, VIP{netip.AddrFrom4([4]byte{198, 51, 101, byte(k)}), 80, flow.ProtoTCP}, many)
		left -= n
	}
	if left != 0 || p.lb.slots.n != 1 || p.lb.slots.ring[p.lb.slots.head] != 0 {
		t.Fatalf("%d slots left, %d free, next slot %d: the filling is wrong", left, p.lb.slots.n, p.lb.slots.ring[p.lb.slots.head])
	}
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.3"), 80, flow.ProtoTCP}, backends("10.3.0.1")) // slot 0
	if p.lb.vips[VIP{netip.MustParseAddr("198.51.100.3"), 80, flow.ProtoTCP}].members[netip.MustParseAddr("10.3.0.1")] != 0 {
		t.Fatal("10.3.0.1 did not get slot 0: the test proves nothing")
	}

	v, out := kerneltest.Run(t, p.lb.Program(), f)
	mv, mout, _ := p.model.Process(f)
	if v != TX || outerDst(out) != netip.MustParseAddr("10.1.0.2") {
		t.Fatalf("tracked flow of %v sent to %v (verdict %d), want its table's only backend 10.1.0.2", x, outerDst(out), v)
	}
	if mv != v || !bytes.Equal(out, mout) {
		t.Fatalf("kernel and model differ: kernel %d to %v, model %d to %v", v, outerDst(out), mv, outerDst(mout))
	}
	// Every slot is taken: one more member is refused, and nothing leaks.
	addrs := len(p.lb.addrs)
	if _, err := p.lb.SetVIP(x, backends("10.1.0.2", "10.1.0.9")); err == nil || !strings.Contains(err.Error(), "backend slots") {
		t.Fatalf("a member beyond MaxMembers: got %v, want an error naming the slot limit", err)
	}
	if !p.lb.slots.used[1] || len(p.lb.addrs) != addrs || p.lb.vips[x].members[netip.MustParseAddr("10.1.0.2")] != 1 {
		t.Fatal("the refused SetVIP changed the installed slots")
	}
}

// TestKernel_ConnTrackReadded: a backend that leaves and comes back is a
// new backend: flows tracked to it before it left are not sent back to it
// by either kernel or model; both follow the table.
func TestKernel_ConnTrackReadded(t *testing.T) {
	p := load(t, Options{ConnTrack: true, Table: maglev.Params{Size: 251}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	a := netip.MustParseAddr("10.1.0.1")
	p.setVIP(t, x, backends("10.1.0.1"))
	// Flows first tracked to a; after a leaves and comes back with others,
	// the table sends many of them elsewhere.
	var frames [][]byte
	for i := 0; i < 50; i++ {
		// 203.0.113.i:3000+i > 198.51.100.1:80 TCP SYN
		f := pkt.TCP4(fmt.Sprintf("203.0.113.%d:%d", i, 3000+i), "198.51.100.1:80", pkt.SYN, nil)
		frames = append(frames, f)
		if v, out := kerneltest.Run(t, p.lb.Program(), f); v != TX || outerDst(out) != a {
			t.Fatalf("flow %d: verdict %d to %v, want %v", i, v, outerDst(out), a)
		}
		p.model.Process(f)
	}
	p.setVIP(t, x, backends("10.1.0.2"))
	nt := p.setVIP(t, x, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	moved := 0
	for i, f := range frames {
		info, _ := flow.Parse(f)
		j, _ := nt.Pick(info.Key.Hash(0))
		want := netip.MustParseAddr(nt.Backend(j).Name)
		if want != a {
			moved++
		}
		v, out := kerneltest.Run(t, p.lb.Program(), f)
		mv, mout, _ := p.model.Process(f)
		if v != TX || outerDst(out) != want {
			t.Fatalf("flow %d: kernel verdict %d to %v, want the table's %v", i, v, outerDst(out), want)
		}
		if mv != v || !bytes.Equal(out, mout) {
			t.Fatalf("flow %d: kernel sent to %v, model to %v", i, outerDst(out), outerDst(mout))
		}
	}
	if moved == 0 {
		t.Fatal("the new table keeps every flow on 10.1.0.1: the test proves nothing")
	}
}

// A zero LB (not made by Load) and a closed one return errClosed from
// every method that returns an error: on the zero LB Attach, Stats,
// SetConfig, SetVIP and Run used to panic on a nil map or program and
// DeleteVIP said "no VIP"; after Close they said "bad file descriptor" or
// "no VIP". Table returns nil, Program returns nil for the zero LB, and
// Close may be called again.
func TestLB_ZeroAndClosed(t *testing.T) {
	kerneltest.Require(t)
	vip := VIP{Addr: netip.MustParseAddr("10.0.0.2"), Port: 53, Proto: 17}
	bs := []Backend{{Addr: netip.MustParseAddr("192.0.2.10"), Weight: 1}}
	closed, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.SetConfig(testConfig); err != nil {
		t.Fatal(err)
	}
	if _, err := closed.SetVIP(vip, bs); err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	frame := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)
	for name, lb := range map[string]*LB{"zero": {}, "closed": closed} {
		for method, fn := range map[string]func() error{
			"Attach":        func() error { _, err := lb.Attach(1<<30, 0); return err }, // no such interface
			"Stats":         func() error { _, err := lb.Stats(); return err },
			"SetConfig":     func() error { return lb.SetConfig(testConfig) },
			"SetVIP":        func() error { _, err := lb.SetVIP(vip, bs); return err },
			"SetVIP(empty)": func() error { _, err := lb.SetVIP(vip, nil); return err },
			"DeleteVIP":     func() error { return lb.DeleteVIP(vip) },
			"Run":           func() error { _, _, err := lb.Run(frame); return err },
		} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s LB: %s panics: %v", name, method, r)
					}
				}()
				if err := fn(); !errors.Is(err, errClosed) {
					t.Errorf("%s LB: %s: %v, want %v", name, method, err, errClosed)
				}
			}()
		}
		if tb := lb.Table(vip); tb != nil {
			t.Errorf("%s LB: Table %v, want nil", name, tb)
		}
		if err := lb.Close(); err != nil {
			t.Errorf("%s LB: Close: %v", name, err)
		}
	}
	if p := new(LB).Program(); p != nil {
		t.Errorf("zero LB: Program %v, want nil", p)
	}
}

// Run refuses frames shorter than an Ethernet header with an error naming
// the length (the kernel's bare "invalid argument" came back before), and
// its other errors name the frame's length too.
func TestLB_RunShortFrames(t *testing.T) {
	p := load(t, Options{})
	for _, f := range [][]byte{nil, {}, make([]byte, 13)} {
		want := fmt.Sprintf("maglev kernel: test run frames must be at least 14 bytes (an Ethernet header), got %d", len(f))
		if _, _, err := p.lb.Run(f); err == nil || err.Error() != want {
			t.Errorf("Run on %d bytes: %v, want %q", len(f), err, want)
		}
	}
	if v, _, err := p.lb.Run(make([]byte, 14)); err != nil || v != Pass {
		t.Errorf("Run on 14 bytes: %d, %v", v, err)
	}
	if _, _, err := p.lb.Run(make([]byte, 16<<20)); err == nil || !strings.Contains(err.Error(), "got 16777216") {
		t.Errorf("Run on 16 MiB: %v, want an error naming the length", err)
	}
}
