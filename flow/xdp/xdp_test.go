//go:build linux

package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

const testSeed = 0x5eed

// loadKernel loads the kernel with one event per packet, or skips.
func loadKernel(tb testing.TB) *Kernel {
	tb.Helper()
	kerneltest.Require(tb)
	k, err := Load(Options{Seed: testSeed, Events: true})
	if err != nil {
		tb.Fatalf("%+v", err)
	}
	tb.Cleanup(func() { k.Close() })
	return k
}

// runOne runs the kernel on one frame and returns its record.
func runOne(tb testing.TB, k *Kernel, frame []byte) Event {
	tb.Helper()
	verdict, _ := kerneltest.Run(tb, k.Program(), frame)
	if verdict != 2 {
		tb.Fatalf("verdict %d, the flow kernel always passes (2)", verdict)
	}
	e, err := k.NextEvent(0)
	if err != nil {
		tb.Fatalf("no event after a run: %v", err)
	}
	return e
}

// mismatch compares the kernel's record with flow.Parse of the same bytes
// and describes any difference.
func mismatch(e Event, frame []byte) string {
	info, err := flow.Parse(frame)
	want := flow.OutcomeOf(err)
	if e.Outcome != want {
		return "outcome: kernel " + e.Outcome.String() + ", Go " + want.String() + " (" + errString(err) + ")"
	}
	if e.FrameLen != len(frame) {
		return "frame length differs"
	}
	if want != flow.OutcomeOK {
		return ""
	}
	if e.Info != info {
		return "info: kernel " + describe(e.Info) + ", Go " + describe(info)
	}
	if h := info.Key.Hash(testSeed); e.Hash != h {
		return "hash differs"
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func describe(i flow.Info) string {
	return fmt.Sprintf("%v frag=%v offset=%d id=%#x l3=%d l4=%d vlans=%d", i.Key, i.Fragment, i.FragOffset, i.IPID, i.L3Offset, i.L4Offset, i.VLANTags)
}

// TestEventLayout pins the Go view of struct flow_event to the C one.
func TestEventLayout(t *testing.T) {
	if got := int(unsafe.Sizeof(flowFlowEvent{})); got != eventSize {
		t.Fatalf("struct flow_event is %d bytes, decodeEvent assumes %d", got, eventSize)
	}
	if got := int(unsafe.Offsetof(flowFlowEvent{}.Hash)); got != 64 {
		t.Fatalf("flow_event.hash at %d, want 64", got)
	}
	var p flowDpParsed
	offs := []struct {
		name      string
		got, want uintptr
	}{
		{"key.len", unsafe.Offsetof(p.Key.Len), 40},
		{"l3_off", unsafe.Offsetof(p.L3Off), 48},
		{"l4_off", unsafe.Offsetof(p.L4Off), 50},
		{"fragment", unsafe.Offsetof(p.Fragment), 52},
		{"vlan_tags", unsafe.Offsetof(p.VlanTags), 53},
		{"ipid", unsafe.Offsetof(p.Ipid), 56},
		{"frag_off", unsafe.Offsetof(p.FragOff), 60},
	}
	for _, o := range offs {
		if o.got != o.want {
			t.Errorf("dp_parsed.%s at %d, decodeEvent reads %d", o.name, o.got, o.want)
		}
	}
	if n := int(flowFlowStatFLOW_STAT_EVENTS_LOST); n != len(Stats{}.Outcomes) {
		t.Errorf("FLOW_STAT_EVENTS_LOST is %d, Go has %d outcomes", n, len(Stats{}.Outcomes))
	}
}

func serialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// baseFrames are well-formed frames of every kind the parser knows; the
// mutation test derives its odd frames from them.
func baseFrames(tb testing.TB) map[string][]byte {
	eth4 := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	eth6 := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv6}
	ethVLAN := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeDot1Q}
	ip4 := func(p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x1234, Protocol: p, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	}
	ip6 := func(p layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: p,
			SrcIP: []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
			DstIP: []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}}
	}
	tcp := &layers.TCP{SrcPort: 51000, DstPort: 443, Seq: 7, SYN: true, Window: 1000}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
	payload := gopacket.Payload([]byte("dataplane test payload"))

	t4 := ip4(layers.IPProtocolTCP)
	tcp.SetNetworkLayerForChecksum(t4)
	f := map[string][]byte{}
	// 10.0.0.1:51000 > 10.0.0.2:443 tcp, SYN
	f["ipv4-tcp"] = serialize(tb, eth4, t4, tcp, payload)
	u4 := ip4(layers.IPProtocolUDP)
	udp.SetNetworkLayerForChecksum(u4)
	// 10.0.0.1:5353 > 10.0.0.2:53 udp
	f["ipv4-udp"] = serialize(tb, eth4, u4, udp, payload)
	// 10.0.0.1 > 10.0.0.2 icmp echo request
	f["ipv4-icmp"] = serialize(tb, eth4, ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, payload)
	// 10.0.0.1:5353 > 10.0.0.2:53 udp behind one 802.1Q tag (VLAN 11)
	f["vlan-ipv4-udp"] = serialize(tb, ethVLAN, &layers.Dot1Q{VLANIdentifier: 11, Type: layers.EthernetTypeIPv4}, u4, udp, payload)
	// IPv4 with a 4-byte option (IHL 6): router alert
	opt := ip4(layers.IPProtocolUDP)
	opt.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}}
	udp.SetNetworkLayerForChecksum(opt)
	f["ipv4-options-udp"] = serialize(tb, eth4, opt, udp, payload)
	// First fragment (MF set, offset 0) and a later fragment (offset 185*8)
	first := ip4(layers.IPProtocolUDP)
	first.Flags = layers.IPv4MoreFragments
	f["ipv4-first-fragment"] = serialize(tb, eth4, first, udp, payload)
	later := ip4(layers.IPProtocolUDP)
	later.FragOffset = 185
	f["ipv4-later-fragment"] = serialize(tb, eth4, later, payload)
	// [2001:db8::1]:51000 > [2001:db8::2]:443 tcp
	t6 := ip6(layers.IPProtocolTCP)
	tcp.SetNetworkLayerForChecksum(t6)
	f["ipv6-tcp"] = serialize(tb, eth6, t6, tcp, payload)
	// IPv6 with hop-by-hop options (8 bytes) before UDP
	h6 := ip6(layers.IPProtocolIPv6HopByHop)
	hbh := &layers.IPv6HopByHop{}
	hbh.NextHeader = layers.IPProtocolUDP
	hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
	udp.SetNetworkLayerForChecksum(h6)
	f["ipv6-hbh-udp"] = serialize(tb, eth6, h6, hbh, udp, payload)
	// IPv6 fragment header (offset 0, M set) before UDP, written by hand:
	// next header 17, reserved, offset/flags 0x0001, identification 0xabcdef01
	fr := ip6(layers.IPProtocolIPv6Fragment)
	f["ipv6-fragment-udp"] = serialize(tb, eth6, fr, gopacket.Payload(append([]byte{17, 0, 0, 1, 0xab, 0xcd, 0xef, 0x01},
		serialize(tb, udp, payload)...)))
	// [fe80::1] > [ff02::1] icmpv6 echo request
	f["ipv6-icmpv6"] = serialize(tb, eth6, ip6(layers.IPProtocolICMPv6), gopacket.Payload([]byte{128, 0, 0, 0, 0, 1, 0, 1}))
	// 10.0.0.1 > 10.0.0.2 gre: a protocol whose header the rules do not check
	f["ipv4-gre"] = serialize(tb, eth4, ip4(layers.IPProtocolGRE), gopacket.Payload([]byte{0, 0, 0x08, 0x00}))
	// [2001:db8::1] > [2001:db8::2], next header 59 (none): nothing after IPv6
	f["ipv6-no-next"] = serialize(tb, eth6, ip6(layers.IPProtocolNoNextHeader), payload)
	// ARP: not IP
	f["arp"] = serialize(tb, &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{255, 255, 255, 255, 255, 255}, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
			SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{10, 0, 0, 1}, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 2}})
	return f
}

// TestKernel_Fixtures runs every base frame through kernel and Go and also
// checks the Go result against what the frame was built to be.
func TestKernel_Fixtures(t *testing.T) {
	k := loadKernel(t)
	want := map[string]string{
		"ipv4-tcp":            "10.0.0.1:51000 > 10.0.0.2:443 tcp",
		"ipv4-udp":            "10.0.0.1:5353 > 10.0.0.2:53 udp",
		"ipv4-icmp":           "10.0.0.1:0 > 10.0.0.2:0 icmp",
		"vlan-ipv4-udp":       "10.0.0.1:5353 > 10.0.0.2:53 udp",
		"ipv4-options-udp":    "10.0.0.1:5353 > 10.0.0.2:53 udp",
		"ipv4-first-fragment": "10.0.0.1:5353 > 10.0.0.2:53 udp",
		"ipv4-later-fragment": "10.0.0.1:0 > 10.0.0.2:0 udp",
		"ipv6-tcp":            "[2001:db8::1]:51000 > [2001:db8::2]:443 tcp",
		"ipv6-hbh-udp":        "[2001:db8::1]:5353 > [2001:db8::2]:53 udp",
		"ipv6-fragment-udp":   "[2001:db8::1]:5353 > [2001:db8::2]:53 udp",
		"ipv6-icmpv6":         "[2001:db8::1]:0 > [2001:db8::2]:0 icmpv6",
		"ipv4-gre":            "10.0.0.1:0 > 10.0.0.2:0 gre",
		"ipv6-no-next":        "[2001:db8::1]:0 > [2001:db8::2]:0 proto-59",
		"arp":                 "not IP",
	}
	for name, frame := range baseFrames(t) {
		e := runOne(t, k, frame)
		if m := mismatch(e, frame); m != "" {
			t.Errorf("%s: %s", name, m)
		}
		got := "not IP"
		if e.Outcome == flow.OutcomeOK {
			got = e.Info.Key.String()
		}
		if got != want[name] {
			t.Errorf("%s: kernel says %q, the frame was built as %q", name, got, want[name])
		}
	}
	s, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Outcomes[flow.OutcomeNotIP] != 1 || s.Packets() != uint64(len(want)) || s.EventsLost != 0 {
		t.Fatalf("stats %+v after %d frames (one not IP)", s, len(want))
	}
	kerneltest.NoAllocs(t, "Stats", func() error { _, err := k.Stats(); return err })
	if err := k.ResetStats(); err != nil {
		t.Fatal(err)
	}
	if s, err := k.Stats(); err != nil || s != (Stats{}) {
		t.Fatalf("after ResetStats: %+v (%v), want every counter and the digest 0", s, err)
	}
	kerneltest.NoAllocs(t, "ResetStats", k.ResetStats)
	frame := baseFrames(t)["ipv6-tcp"]
	runOne(t, k, frame)
	if s, err := k.Stats(); err != nil || s.Digest != Digest([][]byte{frame}, testSeed) || s.Packets() != 1 {
		t.Fatalf("one frame after ResetStats: %+v (%v), want one packet and the frame's digest alone", s, err)
	}
}

// TestKernel_Mutations is a differential fuzz run with a fixed seed: every
// base frame is cut, has bytes overwritten (mostly in the headers, often
// with values the parser branches on) or VLAN tags inserted, and kernel and
// Go must agree on every result.
func TestKernel_Mutations(t *testing.T) {
	k := loadKernel(t)
	rng := rand.New(rand.NewPCG(1, 2))
	interesting := []byte{0, 1, 4, 5, 6, 0x11, 0x2c, 0x3a, 0x3b, 0x33, 0x3c, 0x2b, 0x40, 0x45, 0x46, 0x4f, 0x60, 0x81, 0x86, 0x88, 0xa8, 0x91, 0xdd, 0x08, 0x20, 0xff, 0x50, 0x1f}
	mutants := 4000
	if testing.Short() {
		mutants = 500
	}
	compared := 0
	outcomes := map[flow.Outcome]int{}
	for name, base := range baseFrames(t) {
		for i := 0; i < mutants; i++ {
			f := append([]byte(nil), base...)
			for n := 1 + rng.IntN(3); n > 0; n-- {
				switch rng.IntN(4) {
				case 0: // overwrite a header byte with an interesting value
					f[rng.IntN(min(len(f), 90))] = interesting[rng.IntN(len(interesting))]
				case 1: // random byte anywhere in the headers
					f[rng.IntN(min(len(f), 90))] = byte(rng.Uint32())
				case 2: // insert a VLAN tag after the MACs
					tag := []byte{0x81, 0x00, 0x00, byte(rng.IntN(4096))}
					f = append(f[:12], append(tag, f[12:]...)...)
				case 3: // cut
					if len(f) > 15 {
						f = f[:14+rng.IntN(len(f)-14)]
					}
				}
			}
			e := runOne(t, k, f)
			if m := mismatch(e, f); m != "" {
				t.Fatalf("%s mutant %d (% x): %s", name, i, f, m)
			}
			outcomes[e.Outcome]++
			compared++
		}
	}
	t.Logf("%d mutated frames agree; outcomes %v", compared, outcomes)
	for o := flow.Outcome(0); o < 4; o++ {
		if outcomes[o] == 0 {
			t.Errorf("no mutant had outcome %v: the mutations no longer cover every branch", o)
		}
	}
}

// TestKernel_LengthSweep: every base frame cut at every length, and every
// IP base frame with its length field (IPv4 total length, IPv6 payload
// length) set to each value from 0 to 128. The kernels' inlined fast path
// and the global dp_parse each check the upper-layer header against both
// lengths, and must agree with Go at every boundary; a random mutation
// rarely lands on one.
func TestKernel_LengthSweep(t *testing.T) {
	k := loadKernel(t)
	outcomes := map[flow.Outcome]int{}
	for name, base := range baseFrames(t) {
		var frames [][]byte
		for n := 14; n <= len(base); n++ {
			frames = append(frames, base[:n:n])
		}
		if info, err := flow.Parse(base); err == nil {
			off := int(info.L3Offset) + 2 // IPv4 total length
			if info.Key.Is6() {
				off = int(info.L3Offset) + 4 // IPv6 payload length
			}
			for v := range 129 {
				f := append([]byte(nil), base...)
				binary.BigEndian.PutUint16(f[off:], uint16(v))
				frames = append(frames, f)
			}
		}
		for _, f := range frames {
			e := runOne(t, k, f)
			if m := mismatch(e, f); m != "" {
				t.Errorf("%s, %d bytes (% x): %s", name, len(f), f, m)
				continue
			}
			outcomes[e.Outcome]++
		}
	}
	t.Logf("outcomes %v", outcomes)
	for o := flow.Outcome(0); o < 4; o++ {
		if outcomes[o] == 0 {
			t.Errorf("no frame had outcome %v", o)
		}
	}
}

// A zero Kernel (not made by Load) and a closed one, loaded with or
// without events, return errClosed from every method that returns an
// error: Attach and Stats used to panic on the zero Kernel and NextEvent
// blamed Options.Events; after Close they said "bad file descriptor" or
// "file already closed". Program returns nil for the zero Kernel, and
// Close may be called again.
func TestKernel_ZeroAndClosed(t *testing.T) {
	kerneltest.Require(t)
	kernels := map[string]*Kernel{"zero": {}, "new": new(Kernel)}
	for _, events := range []bool{false, true} {
		k, err := Load(Options{Seed: testSeed, Events: events})
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		kernels[fmt.Sprintf("closed (events %v)", events)] = k
	}
	for name, k := range kernels {
		for method, fn := range map[string]func() error{
			"Attach":     func() error { _, err := k.Attach(1 << 30); return err }, // no such interface
			"Stats":      func() error { _, err := k.Stats(); return err },
			"ResetStats": k.ResetStats,
			"NextEvent":  func() error { _, err := k.NextEvent(0); return err },
			"Run":        func() error { _, err := k.Run(make([]byte, 64)); return err },
			"Bench":      func() error { _, err := k.Bench(make([]byte, 64), 1); return err },
			"Close":      k.Close,
		} {
			err := kerneltest.Call(t, name+" Kernel: "+method, fn)
			if method == "Close" {
				if err != nil {
					t.Errorf("%s Kernel: Close: %v", name, err)
				}
			} else if !errors.Is(err, errClosed) {
				t.Errorf("%s Kernel: %s: %v, want %v", name, method, err, errClosed)
			}
		}
	}
	if p := new(Kernel).Program(); p != nil {
		t.Errorf("zero Kernel: Program %v, want nil", p)
	}
}

// Configure refuses a nil spec with an error naming it (it used to panic
// once the options passed); invalid options are still reported first.
func TestConfigure_NilSpec(t *testing.T) {
	err := kerneltest.Call(t, "Configure(nil, {})", func() error { return Configure(nil, Options{}) })
	if err == nil || !strings.Contains(err.Error(), "nil spec") {
		t.Errorf("Configure(nil, {}): %v, want an error naming the nil spec", err)
	}
	err = kerneltest.Call(t, "Configure(nil, bad)", func() error { return Configure(nil, Options{EventsBytes: 1}) })
	if err == nil || !strings.Contains(err.Error(), "EventsBytes") {
		t.Errorf("Configure(nil, {EventsBytes: 1}): %v, want the EventsBytes error", err)
	}
}
