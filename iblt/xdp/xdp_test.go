//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

const xdpPass = 2

func loadKernel(tb testing.TB, o Options) *Kernel {
	tb.Helper()
	kerneltest.Require(tb)
	k, err := Load(o)
	if err != nil {
		tb.Fatalf("%+v", err)
	}
	tb.Cleanup(func() { k.Close() })
	return k
}

// TestLayout pins the Go view of the kernel's structs and enums.
func TestLayout(t *testing.T) {
	if n := unsafe.Sizeof(ibltIbltPktKey{}); n != KeyLen {
		t.Errorf("struct iblt_pkt_key is %d bytes, KeyLen is %d", n, KeyLen)
	}
	var c ibltIbltCell
	if n := unsafe.Sizeof(c); n != 8*(3+keyWords) {
		t.Errorf("struct iblt_cell is %d bytes, iblt.Table cells of %d-byte keys are %d", n, KeyLen, 8*(3+keyWords))
	}
	for _, o := range []struct {
		name      string
		got, want uintptr
	}{
		{"count", unsafe.Offsetof(c.Count), 0},
		{"value_sum", unsafe.Offsetof(c.ValueSum), 8},
		{"hash_sum", unsafe.Offsetof(c.HashSum), 16},
		{"key_sum", unsafe.Offsetof(c.KeySum), 24},
	} {
		if o.got != o.want {
			t.Errorf("iblt_cell.%s at %d, iblt.Table has it at %d", o.name, o.got, o.want)
		}
	}
	if n := unsafe.Sizeof(ibltIbltChunk{}); chunk != 64 || n != uintptr(chunk)*unsafe.Sizeof(c) {
		t.Errorf("struct iblt_chunk is %d bytes for %d cells; want 64 cells of %d bytes, no padding", n, chunk, unsafe.Sizeof(c))
	}
	var k ibltIbltPktKey
	if unsafe.Offsetof(k.FlowLen) != 37 || unsafe.Offsetof(k.Id) != 40 {
		t.Errorf("iblt_pkt_key.flow_len at %d and id at %d, PacketKey writes 37 and 40", unsafe.Offsetof(k.FlowLen), unsafe.Offsetof(k.Id))
	}
	if n := int(ibltIbltStatIBLT_STAT_MISSING_CELL); n != len(Stats{}.Outcomes) {
		t.Errorf("IBLT_STAT_MISSING_CELL is %d, Go has %d outcomes", n, len(Stats{}.Outcomes))
	}
	if n := iblt.MaxHashes; n != 8 {
		t.Errorf("IBLT_MAX_K is 8, iblt.MaxHashes %d", n)
	}
}

// TestConfigure_Sizes checks that the map in use gets the table's cells and
// that the constants the kernel reads are the Go values.
func TestConfigure_Sizes(t *testing.T) {
	for _, shared := range []bool{false, true} {
		spec, err := Spec()
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Cells: 300, Hashes: 3, Seed: 77, Shared: shared}
		if err := Configure(spec, o); err != nil {
			t.Fatal(err)
		}
		inUse, unused := spec.Maps[ibltMapIbltCells], spec.Maps[ibltMapIbltSharedCells]
		if shared {
			inUse, unused = unused, inUse
		}
		// Shared: 600 cells, two epochs of 300. Per CPU: 10 chunks of 64
		// cells, two epochs of 300 cells each rounded up to 320.
		elems, cells, stride := uint32(10), uint32(64), uint32(320)
		if shared {
			elems, cells, stride = 600, 1, 300
		}
		if inUse.MaxEntries != elems || unused.MaxEntries != 1 {
			t.Errorf("shared=%v: cell maps sized %d and %d, want %d and 1", shared, inUse.MaxEntries, unused.MaxEntries, elems)
		}
		if inUse.ValueSize != cells*uint32(8*(3+keyWords)) {
			t.Errorf("shared=%v: cell map value size %d, want %d cells of %d bytes", shared, inUse.ValueSize, cells, 8*(3+keyWords))
		}
		var gotStride uint32
		spec.Variables[ibltVarIbltStride].Get(&gotStride)
		if gotStride != stride {
			t.Errorf("shared=%v: iblt_stride %d, want %d", shared, gotStride, stride)
		}
		var seed, check uint64
		var sub uint32
		spec.Variables[ibltVarIbltSeed].Get(&seed)
		spec.Variables[ibltVarIbltCheckSeed].Get(&check)
		spec.Variables[ibltVarIbltSub].Get(&sub)
		if seed != 77 || check != iblt.ChecksumSeed(77) || sub != 100 {
			t.Errorf("constants seed %d check %#x sub %d", seed, check, sub)
		}
	}
	spec, _ := Spec()
	if err := Configure(spec, Options{Cells: 10, Hashes: 3}); err == nil {
		t.Error("cells not a multiple of hashes accepted")
	}
}

func serialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

type fixture struct {
	name   string
	frame  []byte
	insert bool // the digest takes the packet
}

func fixtures(tb testing.TB) []fixture {
	eth := func(t layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: t}
	}
	ip4 := func(p layers.IPProtocol, id uint16) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: id, Protocol: p, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	}
	ip6 := func(p layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: p,
			SrcIP: []byte{0x20, 1, 0xd, 0xb8, 15: 1}, DstIP: []byte{0x20, 1, 0xd, 0xb8, 15: 2}}
	}
	pl := gopacket.Payload("digest me")
	var f []fixture
	add := func(name string, insert bool, ls ...gopacket.SerializableLayer) {
		f = append(f, fixture{name: name, frame: serialize(tb, ls...), insert: insert})
	}
	{ // 10.0.0.1:40000 > 10.0.0.2:443 tcp, IPv4 ID 0x1234
		ip, tcp := ip4(layers.IPProtocolTCP, 0x1234), &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 1000, ACK: true, Window: 512}
		tcp.SetNetworkLayerForChecksum(ip)
		add("ipv4-tcp", true, eth(layers.EthernetTypeIPv4), ip, tcp, pl)
	}
	{ // 10.0.0.1:5353 > 10.0.0.2:53 udp, IPv4 ID 0
		ip, udp := ip4(layers.IPProtocolUDP, 0), &layers.UDP{SrcPort: 5353, DstPort: 53}
		udp.SetNetworkLayerForChecksum(ip)
		add("ipv4-udp-id0", true, eth(layers.EthernetTypeIPv4), ip, udp, pl)
	}
	// 10.0.0.1 > 10.0.0.2 icmp echo request, IPv4 ID 7
	add("ipv4-icmp", true, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4, 7), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 2}, pl)
	// 10.0.0.1 > 10.0.0.2 GRE whose header is the text "digest me" (flags
	// 0x6469: routing, key, and the version bits), IPv4 ID 9
	add("ipv4-gre", true, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolGRE, 9), pl)
	{ // 10.0.0.1 > 10.0.0.2 udp, later fragment (offset 64): no ports, no checksum
		ip := ip4(layers.IPProtocolUDP, 0x4242)
		ip.FragOffset = 8
		add("ipv4-later-fragment", true, eth(layers.EthernetTypeIPv4), ip, pl)
	}
	{ // [2001:db8::1]:40000 > [2001:db8::2]:443 tcp
		ip, tcp := ip6(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 99, SYN: true, Window: 512}
		tcp.SetNetworkLayerForChecksum(ip)
		add("ipv6-tcp", true, eth(layers.EthernetTypeIPv6), ip, tcp, pl)
	}
	{ // [2001:db8::1]:5353 > [2001:db8::2]:53 udp
		ip, udp := ip6(layers.IPProtocolUDP), &layers.UDP{SrcPort: 5353, DstPort: 53}
		udp.SetNetworkLayerForChecksum(ip)
		add("ipv6-udp", true, eth(layers.EthernetTypeIPv6), ip, udp, pl)
	}
	{ // 2001:db8::1 > 2001:db8::2 icmpv6 echo request
		ip, icmp := ip6(layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}
		icmp.SetNetworkLayerForChecksum(ip)
		add("ipv6-icmpv6", true, eth(layers.EthernetTypeIPv6), ip, icmp, pl)
	}
	// ARP: not IP, not inserted
	add("arp", false, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: 1, SourceHwAddress: make([]byte, 6), SourceProtAddress: make([]byte, 4),
		DstHwAddress: make([]byte, 6), DstProtAddress: make([]byte, 4)})
	// Ethernet header claiming IPv4 and nothing after it: truncated, not inserted
	f = append(f, fixture{name: "truncated-ipv4", frame: append(serialize(tb, eth(layers.EthernetTypeIPv4)), 0x45, 0, 0)})
	// TCP, UDP, ESP, AH, SCTP, GRE and later fragments, as
	// TestPacketID_Protocols checks them (see there)
	for _, c := range packetIDCases() {
		f = append(f, fixture{name: c.name, frame: c.frame, insert: true})
	}
	return f
}

// TestKernel_Fixtures runs each fixture through the kernel and the Go
// model: same verdict (pass), same outcome count, same table cell for cell.
func TestKernel_Fixtures(t *testing.T) {
	for _, shared := range []bool{false, true} {
		o := Options{Cells: 60, Hashes: 3, Seed: 0xfeed, Shared: shared}
		k := loadKernel(t, o)
		for _, fx := range fixtures(t) {
			name := fmt.Sprintf("%s/shared=%v", fx.name, shared)
			if err := k.Reset(); err != nil {
				t.Fatal(err)
			}
			if v, _ := kerneltest.Run(t, k.Program(), fx.frame); v != xdpPass {
				t.Fatalf("%s: verdict %d, want XDP_PASS", name, v)
			}
			got, err := k.Table()
			if err != nil {
				t.Fatal(err)
			}
			want, _ := Digest(o, [][]byte{fx.frame})
			if !got.Equal(want) {
				t.Errorf("%s: kernel table differs from the Go digest", name)
			}
			if got.IsEmpty() == fx.insert {
				t.Errorf("%s: inserted %v, want %v", name, !got.IsEmpty(), fx.insert)
			}
			st, _ := k.Stats()
			info, perr := flow.Parse(fx.frame)
			if st.Outcomes[flow.OutcomeOf(perr)] != 1 || st.Packets() != 1 || st.MissingCells != 0 {
				t.Errorf("%s: stats %+v, Go outcome %v", name, st, flow.OutcomeOf(perr))
			}
			if fx.insert {
				// The one packet lists, named by flow and identifier.
				lost, _, err := Lost(got, iblt.MustNew(o.Params()))
				if err != nil || len(lost) != 1 || lost[0].Flow != info.Key || lost[0].ID != PacketID(fx.frame, info) || lost[0].Bytes != uint64(len(fx.frame)) {
					t.Errorf("%s: listed %+v (err %v)", name, lost, err)
				}
			}
		}
	}
}

// replayFrames returns the frames of a capture as the kernel sees them.
func replayFrames(tb testing.TB, path string) [][]byte {
	var out [][]byte
	for _, f := range traffic.Frames(tb, path) {
		if len(f) < kerneltest.MinFrame {
			continue
		}
		out = append(out, kerneltest.Clip(f))
	}
	return out
}

// TestKernel_Replay replays every packet of every shared capture through
// the kernel; the digest must equal the Go digest of the same frames cell
// for cell, in both table modes. The table spans three batches of
// bpfload.Batch cells, the last one partial, so Kernel.Table reading and
// Kernel.Reset (between captures) clearing only the first batch fail it.
func TestKernel_Replay(t *testing.T) {
	files := traffic.Files(t)
	for _, shared := range []bool{false, true} {
		o := Options{Cells: 3 * 3001, Hashes: 3, Seed: 0xd16e57, Shared: shared}
		if o.Cells <= 2*bpfload.Batch || o.Cells%bpfload.Batch == 0 {
			t.Fatalf("%d cells: want more than two batches of %d, the last partial", o.Cells, bpfload.Batch)
		}
		k := loadKernel(t, o)
		total := 0
		for _, path := range files {
			frames := replayFrames(t, path)
			if err := k.Reset(); err != nil {
				t.Fatal(err)
			}
			for _, f := range frames {
				if v, _ := kerneltest.Run(t, k.Program(), f); v != xdpPass {
					t.Fatalf("%s: verdict %d", path, v)
				}
			}
			got, err := k.Table()
			if err != nil {
				t.Fatal(err)
			}
			want, _ := Digest(o, frames)
			if !got.Equal(want) {
				t.Errorf("%s (shared=%v): kernel digest of %d frames differs from Go", path, shared, len(frames))
			}
			st, _ := k.Stats()
			var ok int
			for _, f := range frames {
				if _, err := flow.Parse(f); err == nil {
					ok++
				}
			}
			if st.Outcomes[flow.OutcomeOK] != uint64(ok) || st.Packets() != uint64(len(frames)) || st.MissingCells != 0 {
				t.Errorf("%s: kernel stats %+v, Go parsed %d of %d", path, st, ok, len(frames))
			}
			total += len(frames)
		}
		t.Logf("shared=%v: %d frames of %d captures compared, zero mismatches allowed", shared, total, len(files))
	}
}

// kernelLost digests frames in one kernel (upstream) and keep in another
// (downstream), both loaded with o, and lists the difference with Lost.
func kernelLost(t *testing.T, o Options, frames, keep [][]byte) (lost, extra []Packet, err error) {
	t.Helper()
	up, down := loadKernel(t, o), loadKernel(t, o)
	for _, f := range frames {
		kerneltest.Run(t, up.Program(), f)
	}
	for _, f := range keep {
		kerneltest.Run(t, down.Program(), f)
	}
	ut, err := up.Table()
	if err != nil {
		t.Fatal(err)
	}
	dt, err := down.Table()
	if err != nil {
		t.Fatal(err)
	}
	return Lost(ut, dt)
}

type pktID struct {
	flow  flow.Key
	id    uint64
	bytes uint64
}

// TestKernel_Loss digests each main capture upstream, and again downstream
// with a seeded random 1% of its packets removed; listing upstream minus
// downstream names exactly the removed packets.
func TestKernel_Loss(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 100))
	for _, path := range traffic.MainFiles(t) {
		frames := replayFrames(t, path)
		var keep [][]byte
		want := map[pktID]int{}
		for _, f := range frames {
			info, err := flow.Parse(f)
			if err != nil || rng.IntN(100) != 0 {
				keep = append(keep, f)
				continue
			}
			want[pktID{info.Key, PacketID(f, info), uint64(len(f))}]++
		}
		n := 0
		for _, c := range want {
			n += c
		}
		o, err := OptionsFor(n, 0.9999, rng.Uint64())
		if err != nil {
			t.Fatal(err)
		}
		lost, extra, err := kernelLost(t, o, frames, keep)
		if err != nil {
			t.Fatalf("%s: %v (listed %d of %d)", path, err, len(lost), n)
		}
		got := map[pktID]int{}
		for _, p := range lost {
			got[pktID{p.Flow, p.ID, p.Bytes}]++
		}
		if len(extra) != 0 || len(got) != len(want) {
			t.Fatalf("%s: listed %d lost and %d extra, removed %d", path, len(lost), len(extra), n)
		}
		for p, c := range want {
			if got[p] != c {
				t.Fatalf("%s: removed packet %v id %#x listed %d times, removed %d", path, p.flow, p.id, got[p], c)
			}
		}
		t.Logf("%s: %d of %d packets removed downstream, all listed from %d cells", filepath.Base(path), n, len(frames), o.Cells)
	}
}

// TestKernel_LossTunnels digests the robustness captures of ESP, GRE and
// fragmented DNS upstream, and downstream without two packets of their
// largest flow (its second and fifth): listing names exactly those two,
// told apart by the ESP sequence, the GRE payload's inner fields, or the
// fragment offset and data (an identifier of IP identification alone made
// them twins, which cannot be listed).
func TestKernel_LossTunnels(t *testing.T) {
	want := map[string]bool{
		"ipv6-esp_zeek.pcap": true, "gre-in-gre_zeek.pcap": true, "gre-sample_zeek.pcap": true,
		"ipv4-fragments-dns-rawip_dnscap.pcap": true,
	}
	o := Options{Cells: 60, Hashes: 3, Seed: 0x10557}
	for _, path := range traffic.Files(t) {
		name := filepath.Base(path)
		if !want[name] {
			continue
		}
		delete(want, name)
		frames := replayFrames(t, path)
		sizes := map[flow.Key]int{}
		var big flow.Key
		for _, f := range frames {
			if info, err := flow.Parse(f); err == nil {
				if sizes[info.Key]++; sizes[info.Key] > sizes[big] {
					big = info.Key
				}
			}
		}
		var keep [][]byte
		removed := map[pktID]int{}
		n := 0
		for _, f := range frames {
			info, err := flow.Parse(f)
			if err == nil && info.Key == big {
				if n++; n == 2 || n == 5 {
					removed[pktID{info.Key, PacketID(f, info), uint64(len(f))}]++
					continue
				}
			}
			keep = append(keep, f)
		}
		lost, extra, err := kernelLost(t, o, frames, keep)
		if err != nil || len(lost) != 2 || len(extra) != 0 {
			t.Errorf("%s: two packets of %v (%d packets) removed: listed %+v and %+v, err %v", name, big, sizes[big], lost, extra, err)
			continue
		}
		for _, p := range lost {
			if removed[pktID{p.Flow, p.ID, p.Bytes}]--; removed[pktID{p.Flow, p.ID, p.Bytes}] < 0 {
				t.Errorf("%s: listed %v id %#x, %d bytes, which was not removed", name, p.Flow, p.ID, p.Bytes)
			}
		}
		t.Logf("%s: packets 2 and 5 of %v (%d packets) removed, both listed", name, big, sizes[big])
	}
	for name := range want {
		t.Errorf("capture %s not found", name)
	}
}

// BenchmarkKernel reports the digest's ns/packet net of the XDP_DROP
// floor, on the frames of the main captures.
func BenchmarkKernel(b *testing.B) {
	frames := traffic.MainFrames(b)
	var fs [][]byte
	for _, f := range frames {
		if len(f) >= kerneltest.MinFrame {
			fs = append(fs, f)
		}
	}
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			k := loadKernel(b, Options{Cells: 3 * 4096, Hashes: 3, Seed: 1, Shared: shared})
			kerneltest.Bench(b, k.Program(), fs)
		})
	}
}

// BenchmarkKernelTable measures Read, the read-back of a digest of 12,600
// cells (sized for 10,000 differences at k = 3), per-CPU and shared, of
// each epoch: epoch 1's cells follow epoch 0's in the map, and a read of
// epoch 1 used to read epoch 0's too.
func BenchmarkKernelTable(b *testing.B) {
	for _, shared := range []bool{false, true} {
		for epoch := range 2 {
			b.Run(fmt.Sprintf("shared=%v/epoch=%d", shared, epoch), func(b *testing.B) {
				k := loadKernel(b, Options{Cells: 12600, Hashes: 3, Seed: 1, Shared: shared})
				kerneltest.BenchMillis(b, "table", func() error {
					_, err := k.Read(epoch)
					return err
				})
			})
		}
	}
}

// BenchmarkKernelFlip measures Flip on the digest of BenchmarkKernelTable:
// the other epoch cleared, the grace period waited for, the ended epoch
// read, into a new table (op=flip) and into one kept from call to call
// (op=flip-into).
func BenchmarkKernelFlip(b *testing.B) {
	for _, shared := range []bool{false, true} {
		for _, op := range []string{"flip", "flip-into"} {
			b.Run(fmt.Sprintf("shared=%v/op=%s", shared, op), func(b *testing.B) {
				o := Options{Cells: 12600, Hashes: 3, Seed: 1, Shared: shared}
				k := loadKernel(b, o)
				dst := iblt.MustNew(o.Params())
				kerneltest.BenchMillis(b, op, func() error {
					if op == "flip-into" {
						return k.FlipInto(dst)
					}
					_, err := k.Flip()
					return err
				})
			})
		}
	}
}

// A zero Kernel (not made by Load) and a closed one, per-CPU or shared,
// return errClosed from every method that returns an error: on the zero
// Kernel Attach, Stats, Reset, Run and Bench used to panic on a nil
// program or map and Table blamed the zero Params ("iblt: hashes must be
// in [1, 8]"); after Close they said "bad file descriptor". Epoch, Read,
// Clear and Flip, the epoch methods, return it as well. Program
// returns nil for the zero Kernel, and Close may be called again.
func TestKernel_ZeroAndClosed(t *testing.T) {
	kerneltest.Require(t)
	o, err := OptionsFor(10, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	kernels := map[string]*Kernel{"zero": {}}
	for _, shared := range []bool{false, true} {
		o.Shared = shared
		k, err := Load(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		kernels[fmt.Sprintf("closed (shared %v)", shared)] = k
	}
	frame := make([]byte, 64)
	for name, k := range kernels {
		for method, fn := range map[string]func() error{
			"Attach":   func() error { _, err := k.Attach(1 << 30); return err }, // no such interface
			"Stats":    func() error { _, err := k.Stats(); return err },
			"Table":    func() error { _, err := k.Table(); return err },
			"Reset":    k.Reset,
			"Run":      func() error { _, err := k.Run(frame); return err },
			"Bench":    func() error { _, err := k.Bench(frame, 1); return err },
			"Epoch":    func() error { _, err := k.Epoch(); return err },
			"Read":     func() error { _, err := k.Read(0); return err },
			"Clear":    func() error { return k.Clear(0) },
			"Flip":     func() error { _, err := k.Flip(); return err },
			"ReadInto": func() error { return k.ReadInto(0, iblt.MustNew(o.Params())) },
			"FlipInto": func() error { return k.FlipInto(iblt.MustNew(o.Params())) },
		} {
			if err := kerneltest.Call(t, name+" Kernel: "+method, fn); !errors.Is(err, errClosed) {
				t.Errorf("%s Kernel: %s: %v, want %v", name, method, err, errClosed)
			}
		}
		if err := k.Close(); err != nil {
			t.Errorf("%s Kernel: Close: %v", name, err)
		}
	}
	if p := new(Kernel).Program(); p != nil {
		t.Errorf("zero Kernel: Program %v, want nil", p)
	}
}

// Run and Bench refuse frames shorter than an Ethernet header with an
// error naming the length (the kernel's "invalid argument" came back
// before), and Bench a negative repeat (cilium/ebpf called it "too
// high"); Configure refuses a nil spec by name (it panicked once the
// options passed).
func TestKernel_Arguments(t *testing.T) {
	o, err := OptionsFor(10, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	err = kerneltest.Call(t, "Configure(nil, ok)", func() error { return Configure(nil, o) })
	if want := "iblt kernel: Configure of a nil spec (use Spec)"; err == nil || err.Error() != want {
		t.Errorf("Configure(nil, ok): %v, want %q", err, want)
	}
	k := loadKernel(t, o)
	for _, f := range [][]byte{nil, {}, make([]byte, 13)} {
		want := fmt.Sprintf("iblt kernel: test run frames must be at least 14 bytes (an Ethernet header), got %d", len(f))
		if _, err := k.Run(f); err == nil || err.Error() != want {
			t.Errorf("Run on %d bytes: %v, want %q", len(f), err, want)
		}
		if _, err := k.Bench(f, 1); err == nil || err.Error() != want {
			t.Errorf("Bench on %d bytes: %v, want %q", len(f), err, want)
		}
	}
	want := "iblt kernel: Bench repeat must not be negative, got -1"
	if _, err := k.Bench(make([]byte, 14), -1); err == nil || err.Error() != want {
		t.Errorf("Bench repeat -1: %v, want %q", err, want)
	}
	if v, err := k.Run(make([]byte, 14)); err != nil || v != xdpPass {
		t.Errorf("Run on 14 bytes: %d, %v", v, err)
	}
	if _, err := k.Run(make([]byte, 16<<20)); err == nil || !strings.Contains(err.Error(), "got 16777216") {
		t.Errorf("Run on 16 MiB: %v, want an error naming the length", err)
	}
}
