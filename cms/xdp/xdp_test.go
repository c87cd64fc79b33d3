//go:build linux

package xdp

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	flowxdp "github.com/dataplane-go/dataplane/flow/xdp"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

const testSeed = 0x5eed

func load(tb testing.TB, opts Options) *Kernel {
	tb.Helper()
	kerneltest.Require(tb)
	k, err := Load(opts)
	if err != nil {
		tb.Fatalf("%+v", err)
	}
	tb.Cleanup(func() { k.Close() })
	return k
}

func TestLayout(t *testing.T) {
	if got := int(unsafe.Sizeof(cmsCmsEvent{})); got != eventSize {
		t.Fatalf("struct cms_event is %d bytes, decodeEvent assumes %d", got, eventSize)
	}
	var e cmsCmsEvent
	for _, o := range []struct {
		name      string
		got, want uintptr
	}{
		{"key.len", unsafe.Offsetof(e.Key.Len), 40},
		{"hash", unsafe.Offsetof(e.Hash), 48},
		{"estimate", unsafe.Offsetof(e.Estimate), 56},
		{"cpu", unsafe.Offsetof(e.Cpu), 60},
		{"report", unsafe.Offsetof(e.Report), 64},
		{"epoch", unsafe.Offsetof(e.Epoch), 68},
	} {
		if o.got != o.want {
			t.Errorf("cms_event.%s at %d, decodeEvent reads %d", o.name, o.got, o.want)
		}
	}
	if ModeShared != Mode(cmsCmsModeCMS_MODE_SHARED) || ModePerCPU != Mode(cmsCmsModeCMS_MODE_PERCPU) || ModeDetect != Mode(cmsCmsModeCMS_MODE_DETECT) {
		t.Error("Go modes differ from enum cms_mode")
	}
	if cms.ReportNone != cms.Report(cmsCmsReportCMS_REPORT_NONE) || cms.ReportCrossed != cms.Report(cmsCmsReportCMS_REPORT_CROSSED) || cms.ReportDropped != cms.Report(cmsCmsReportCMS_REPORT_DROPPED) {
		t.Error("cms.Report values differ from enum cms_report")
	}
	if int(cmsCmsStatCMS_STAT_DROPPED) != len(Stats{}.Outcomes) {
		t.Errorf("CMS_STAT_DROPPED is %d, Go has %d outcomes", cmsCmsStatCMS_STAT_DROPPED, len(Stats{}.Outcomes))
	}
	// The counters map holds a row per element where a row fits one (8192
	// counters per-CPU, 2^20 shared), else each row cut into chunks of that
	// many: both maps, their bounds, and the mode's map only.
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		w, d           uint32
		mode           Mode
		entries, value uint32
	}{
		{1000, 4, ModeShared, 4, 4000},
		{1000, 4, ModePerCPU, 4, 4000},
		{5, 3, ModeDetect, 3, 20},
		{8192, 2, ModePerCPU, 2, 32768},
		{8193, 2, ModePerCPU, 4, 32768},
		{8193, 2, ModeShared, 2, 4 * 8193},
		{3*8192 + 1, 5, ModeDetect, 20, 32768},
		{1 << 20, 2, ModeShared, 2, 4 << 20},
		{1<<20 + 1, 2, ModeShared, 4, 4 << 20},
		{cms.MaxCounters, 1, ModeShared, 256, 4 << 20},
		{cms.MaxCounters, 1, ModePerCPU, 32768, 32768},
	} {
		p := cms.Params{Width: c.w, Depth: c.d, Seed: 1}
		if err := Configure(spec, Options{Params: p, Mode: c.mode}); err != nil {
			t.Fatal(err)
		}
		used, unused := spec.Maps[cmsMapCmsCounters], spec.Maps[cmsMapCmsCountersPcpu]
		if c.mode != ModeShared {
			used, unused = unused, used
		}
		if used.KeySize != 4 || used.ValueSize != c.value || used.MaxEntries != c.entries {
			t.Errorf("w %d d %d %s: counters map key %d value %d entries %d, want 4, %d, %d", c.w, c.d, c.mode, used.KeySize, used.ValueSize, used.MaxEntries, c.value, c.entries)
		}
		if unused.ValueSize != 4 || unused.MaxEntries != 1 {
			t.Errorf("w %d d %d %s: the other counters map has value %d entries %d, want 4, 1", c.w, c.d, c.mode, unused.ValueSize, unused.MaxEntries)
		}
		if got := spec.Variables[cmsVarCmsChunks]; got == nil {
			t.Fatal("no cms_chunks")
		} else {
			var chunks uint32
			if err := got.Get(&chunks); err != nil || chunks != c.entries/c.d {
				t.Errorf("w %d d %d %s: cms_chunks %d (%v), want %d", c.w, c.d, c.mode, chunks, err, c.entries/c.d)
			}
		}
	}
	// Every counter has its own slot, and span inverts where.
	for _, l := range []layout{layoutOf(cms.Params{Width: 3*8192 + 7, Depth: 3}, true), layoutOf(cms.Params{Width: 9, Depth: 2}, false)} {
		seen := map[[2]uint32]bool{}
		for r := range l.depth {
			for c := range l.width {
				e, slot := l.where(r, c)
				if e >= l.elements() || slot >= l.perElem || seen[[2]uint32{e, slot}] {
					t.Fatalf("%+v: counter (%d, %d) at element %d slot %d", l, r, c, e, slot)
				}
				seen[[2]uint32{e, slot}] = true
				if sr, sc, n := l.span(e); sr != r || c < sc || c-sc != slot || slot >= n {
					t.Fatalf("%+v: element %d spans row %d from %d, %d counters; counter (%d, %d) is at slot %d", l, e, sr, sc, n, r, c, slot)
				}
			}
		}
	}
	// The report cache: CMS_REPORT_SLOTS slots of {hash, used} in detector
	// mode (the C constant is the map's declared size), one otherwise.
	if r := spec.Maps[cmsMapCmsReported]; r.ValueSize != uint32(unsafe.Sizeof(cmsCmsReportedSlot{})) || r.ValueSize != 16 || r.MaxEntries != 1 {
		t.Errorf("report cache in sketch mode: value %d entries %d, want 16, 1", r.ValueSize, r.MaxEntries)
	}
	fresh, _ := Spec()
	if n := fresh.Maps[cmsMapCmsReported].MaxEntries; n != cms.ReportSlots {
		t.Errorf("CMS_REPORT_SLOTS is %d, cms.ReportSlots %d", n, cms.ReportSlots)
	}
	if err := Configure(fresh, Options{Params: cms.LabParams(64, 1), Mode: ModeDetect}); err != nil {
		t.Fatal(err)
	}
	if n := fresh.Maps[cmsMapCmsReported].MaxEntries; n != cms.ReportSlots {
		t.Errorf("report cache in detector mode: %d slots, want %d", n, cms.ReportSlots)
	}
	for _, bad := range []Options{
		{Params: cms.Params{Width: 0, Depth: 2}},
		{Params: cms.Params{Width: 8, Depth: 2, Conservative: true}},
		{Params: cms.Params{Width: 8, Depth: 2}, Mode: 7},
		{Params: cms.Params{Width: 8, Depth: 2}, EventsBytes: 5000},
		{Params: cms.Params{Width: 8, Depth: 2}, Mode: ModeDetect, EventsBytes: os.Getpagesize() / 2}, // a power of two below a page
	} {
		if err := bad.Validate(); err == nil || !strings.HasPrefix(err.Error(), "cms kernel: ") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestKernel_MaxDepth(t *testing.T) {
	// the row loop's bound CMS_MAX_DEPTH must admit cms.MaxDepth rows
	k := load(t, Options{Params: cms.Params{Width: 7, Depth: cms.MaxDepth, Seed: 3}})
	f := fixtures(t)["ipv4-udp"]
	kerneltest.Run(t, k.Program(), f)
	s, err := k.Sketch()
	if err != nil {
		t.Fatal(err)
	}
	info, _ := flow.Parse(f)
	if got := s.Estimate(info.Key.Bytes()); got != 1 {
		t.Fatalf("estimate %d after one packet with depth %d", got, cms.MaxDepth)
	}
}

// TestKernel_EventRingSize: only the detector sends events, so only it
// gets the configured ring; the sketch modes get one page, not 256 KiB.
func TestKernel_EventRingSize(t *testing.T) {
	p := cms.Params{Width: 64, Depth: 2, Seed: 1}
	for _, tc := range []struct {
		mode Mode
		want uint32
	}{
		{ModeShared, uint32(os.Getpagesize())},
		{ModePerCPU, uint32(os.Getpagesize())},
		{ModeDetect, DefaultEventsBytes},
	} {
		k := load(t, Options{Params: p, Mode: tc.mode})
		if got := k.objs.CmsEvents.MaxEntries(); got != tc.want {
			t.Errorf("mode %v: event ring of %d bytes, want %d", tc.mode, got, tc.want)
		}
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

// fixtures are frames of each kind: counted (TCP, UDP, ICMP, IPv6) and not
// counted (ARP, truncated IPv4).
func fixtures(tb testing.TB) map[string][]byte {
	eth4 := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	eth6 := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv6}
	ip4 := func(p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: []byte{10, 0, 1, 1}, DstIP: []byte{10, 0, 2, 2}}
	}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, SYN: true, Window: 1000}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
	pl := gopacket.Payload([]byte("heavy hitter"))
	f := map[string][]byte{}
	t4 := ip4(layers.IPProtocolTCP)
	tcp.SetNetworkLayerForChecksum(t4)
	f["ipv4-tcp"] = serialize(tb, eth4, t4, tcp, pl) // 10.0.1.1:40000 > 10.0.2.2:80 tcp
	u4 := ip4(layers.IPProtocolUDP)
	udp.SetNetworkLayerForChecksum(u4)
	f["ipv4-udp"] = serialize(tb, eth4, u4, udp, pl) // 10.0.1.1:5353 > 10.0.2.2:53 udp
	// 10.0.1.1 > 10.0.2.2 icmp echo request (a flow with zero ports)
	f["ipv4-icmp"] = serialize(tb, eth4, ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, pl)
	i6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
		SrcIP: []byte{0x20, 1, 0xd, 0xb8, 15: 1}, DstIP: []byte{0x20, 1, 0xd, 0xb8, 15: 2}}
	udp.SetNetworkLayerForChecksum(i6)
	f["ipv6-udp"] = serialize(tb, eth6, i6, udp, pl) // [2001:db8::1]:5353 > [2001:db8::2]:53 udp
	// ARP request: not IP, passes uncounted
	f["arp"] = serialize(tb, &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{255, 255, 255, 255, 255, 255}, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
			SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{10, 0, 0, 1}, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 2}})
	// IPv4 cut inside its header: truncated, passes uncounted
	f["ipv4-truncated"] = f["ipv4-tcp"][:14+12]
	return f
}

// goSketch is the Go side of a replay: the frames that flow.Parse accepts,
// added once each.
func goSketch(p cms.Params, frames [][]byte) *cms.Sketch {
	s := cms.MustNew(p)
	for _, f := range frames {
		if info, err := flow.Parse(kerneltest.Clip(f)); err == nil {
			s.Add(info.Key.Bytes(), 1)
		}
	}
	return s
}

func compareSketches(t *testing.T, k *Kernel, want *cms.Sketch) {
	t.Helper()
	got, err := k.Sketch()
	if err != nil {
		t.Fatal(err)
	}
	if got.Total() != want.Total() {
		t.Fatalf("kernel total %d, Go %d", got.Total(), want.Total())
	}
	g, w := got.Counters(), want.Counters()
	bad := 0
	for i := range w {
		if g[i] != w[i] {
			if bad < 5 {
				t.Errorf("counter %d (row %d): kernel %d, Go %d", i, i/int(want.Params().Width), g[i], w[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d counters differ", bad, len(w))
	}
}

// TestKernel_SketchFixtures runs each fixture a few times in both sketch
// modes and compares the kernel's sketch with the Go sketch, and the
// statistics with what each frame is, at every depth that the kernel
// updates in straight-line code (1 to 8, one copy each) and at two that
// take its row loop (9 and 11).
func TestKernel_SketchFixtures(t *testing.T) {
	type mcase struct {
		mode         Mode
		width, depth uint32
	}
	var cases []mcase
	for _, d := range []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 11} {
		cases = append(cases, mcase{ModeShared, 63, d}, mcase{ModePerCPU, 63, d}) // odd w: padded elements
	}
	// Rows wider than an element: cut into chunks (see layout).
	for _, d := range []uint32{1, 3, 9} {
		cases = append(cases, mcase{ModePerCPU, 2*pcpuChunk + 5, d})
	}
	cases = append(cases, mcase{ModeShared, sharedChunk + 5, 1}, mcase{ModeShared, sharedChunk + 5, 3})
	// More per-CPU elements (160 of 32 KiB) than one of Counters' 4 MiB
	// batches holds on two CPUs or more: the reads span batches.
	cases = append(cases, mcase{ModePerCPU, 4*pcpuChunk + 3, 32})
	for _, tc := range cases {
		mode := tc.mode
		t.Run(fmt.Sprintf("%s/w=%d/d=%d", mode, tc.width, tc.depth), func(t *testing.T) {
			p := cms.Params{Width: tc.width, Depth: tc.depth, Seed: testSeed}
			k := load(t, Options{Params: p, Mode: mode})
			var frames [][]byte
			for name, f := range fixtures(t) {
				for i := 0; i < 3; i++ {
					if v, _ := kerneltest.Run(t, k.Program(), f); v != 2 {
						t.Fatalf("%s: verdict %d, sketch mode always passes (2)", name, v)
					}
					frames = append(frames, f)
				}
			}
			want := goSketch(p, frames)
			if want.Total() != 12 {
				t.Fatalf("Go counted %d packets, want 12 (4 IP fixtures x 3)", want.Total())
			}
			compareSketches(t, k, want)
			key := flow.MustKey("10.0.1.1", "10.0.2.2", 5353, 53, flow.ProtoUDP)
			s, _ := k.Sketch()
			if s.Estimate(key.Bytes()) < 3 {
				t.Fatal("the kernel's sketch undercounts the UDP fixture")
			}
			st, err := k.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Outcomes[flow.OutcomeOK] != 12 || st.Outcomes[flow.OutcomeNotIP] != 3 || st.Outcomes[flow.OutcomeTruncated] != 3 {
				t.Fatalf("stats %+v", st)
			}
			kerneltest.NoAllocs(t, "Stats", func() error { _, err := k.Stats(); return err })
			kerneltest.NoAllocs(t, "Total", func() error { _, err := k.Total(); return err })
		})
	}
}

// TestKernel_DetectorFixture: the lab with threshold 3 on one flow: three
// packets pass, the third reports the crossing, the rest drop.
func TestKernel_DetectorFixture(t *testing.T) {
	kerneltest.PinCPU(t)
	p := cms.LabParams(4096, testSeed)
	k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: 3})
	d, _ := cms.NewDetector(p, 3)
	f := fixtures(t)["ipv4-tcp"]
	info, _ := flow.Parse(f)
	for i := 0; i < 6; i++ {
		v, _ := kerneltest.Run(t, k.Program(), f)
		drop, _ := d.Filter(info.Key.Bytes())
		if want := map[bool]uint32{false: 2, true: 1}[drop]; v != want {
			t.Fatalf("packet %d: kernel verdict %d, Go model %d", i, v, want)
		}
	}
	ev, err := k.Events()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].Key != info.Key || ev[0].Estimate != 3 || ev[0].Hash != info.Key.Hash(testSeed) || ev[0].Report != cms.ReportCrossed {
		t.Fatalf("events %+v, want one for %v at 3", ev, info.Key)
	}
	st, _ := k.Stats()
	if st.Dropped != 3 || st.Events != 1 {
		t.Fatalf("stats %+v", st)
	}
	compareSketches(t, k, d.Sketch())
}

// capturedFrames is one capture's frames, clipped to what the kernel sees
// and at least an Ethernet header long.
type capturedFrames struct {
	name   string
	frames [][]byte
}

// traffic returns every shared capture (robustness set included), in
// name order, or skips without DATAPLANE_TRAFFIC_DIR.
func captures(tb testing.TB) []capturedFrames {
	tb.Helper()
	var out []capturedFrames
	for _, path := range traffic.Files(tb) {
		c := capturedFrames{name: filepath.Base(path)}
		for _, f := range traffic.Frames(tb, path) {
			if len(f) >= kerneltest.MinFrame {
				c.frames = append(c.frames, kerneltest.Clip(f))
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b capturedFrames) int { return strings.Compare(a.name, b.name) })
	return out
}

// TestKernel_ReplaySketch replays every packet of every capture through the
// kernel in both sketch modes; the kernel's sketch must equal the Go sketch
// of the same packets counter for counter.
func TestKernel_ReplaySketch(t *testing.T) {
	caps := captures(t)
	for _, tc := range []struct {
		mode  Mode
		width uint32
	}{{ModeShared, 2048}, {ModePerCPU, 2048}, {ModePerCPU, 3*pcpuChunk + 1}} {
		mode := tc.mode
		t.Run(fmt.Sprintf("%s/w=%d", mode, tc.width), func(t *testing.T) {
			p := cms.Params{Width: tc.width, Depth: 4, Seed: testSeed}
			k := load(t, Options{Params: p, Mode: mode})
			var all [][]byte
			for _, c := range caps {
				for _, f := range c.frames {
					kerneltest.Run(t, k.Program(), f)
				}
				all = append(all, c.frames...)
			}
			want := goSketch(p, all)
			compareSketches(t, k, want)
			t.Logf("%d frames from %d captures, %d counted: %d counters equal", len(all), len(caps), want.Total(), p.Counters())
		})
	}
}

// modelEvent is a report of the Go model, as the kernel's Event has it.
type modelEvent struct {
	key      flow.Key
	report   cms.Report
	estimate uint32
	epoch    int
}

// replayDetector runs frames through the detector kernel k (pinned to one
// CPU) and the Go model d, failing at the first verdict that differs, and
// returns the packets run and dropped and the model's reports in order. It
// also checks that the model reports every flow it drops.
func replayDetector(t *testing.T, k *Kernel, d *cms.Detector, caps []capturedFrames) (packets, drops int, want []modelEvent) {
	t.Helper()
	return replayDetectorFlips(t, k, d, caps, 0)
}

// replayDetectorFlips is replayDetector with k loaded with Options.Epochs
// flipped every flipEvery packets (0: never), the model reset at the same
// packets (cms.Detector.Reset). Each Flip must wait once for running
// programs and return the model's sketch of the epoch it ended; the
// model's reports carry the epoch they were made in, and every flow the
// model drops in an epoch must be reported in it.
func replayDetectorFlips(t *testing.T, k *Kernel, d *cms.Detector, caps []capturedFrames, flipEvery int) (packets, drops int, want []modelEvent) {
	t.Helper()
	epoch := 0
	dropped, reported := map[flow.Key]bool{}, map[flow.Key]bool{}
	unreported := func() {
		for key := range dropped {
			if !reported[key] {
				t.Fatalf("epoch %d: flow %v dropped, never reported", epoch, key)
			}
		}
	}
	defer unreported()
	for _, c := range caps {
		for i, f := range c.frames {
			v, _ := kerneltest.Run(t, k.Program(), f)
			wantV := uint32(2)
			if info, err := flow.Parse(f); err == nil {
				drop, r := d.FilterReport(info.Key.Bytes())
				if drop {
					wantV = 1
					drops++
					dropped[info.Key] = true
				}
				if r != cms.ReportNone {
					want = append(want, modelEvent{info.Key, r, d.Sketch().Estimate(info.Key.Bytes()), epoch})
					reported[info.Key] = true
				}
			}
			if v != wantV {
				t.Fatalf("%s packet %d: kernel verdict %d, Go model %d", c.name, i, v, wantV)
			}
			packets++
			if flipEvery == 0 || packets%flipEvery != 0 {
				continue
			}
			got := flipWaitingOnce(t, k, fmt.Sprintf("packet %d", packets))
			equalSketch(t, fmt.Sprintf("epoch %d, ended at packet %d", epoch, packets), got, d.Sketch())
			unreported()
			d.Reset()
			clear(dropped)
			clear(reported)
			epoch = 1 - epoch
		}
	}
	return packets, drops, want
}

// compareEvents checks that the kernel reported exactly the model's
// events, in order, and lost none.
func compareEvents(t *testing.T, k *Kernel, want []modelEvent) (crossed, dropped int) {
	t.Helper()
	ev, err := k.Events()
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := k.Stats(); st.EventsLost != 0 || st.Events != uint64(len(want)) {
		t.Fatalf("stats %+v: %d events lost or sent, want 0 lost and %d sent", st, st.EventsLost, len(want))
	}
	if len(ev) != len(want) {
		t.Fatalf("kernel reported %d events, the Go model %d", len(ev), len(want))
	}
	for i, e := range ev {
		w := want[i]
		if e.Key != w.key || e.Report != w.report || e.Estimate != w.estimate || e.Epoch != w.epoch {
			t.Fatalf("event %d: kernel %v %v at %d in epoch %d, Go model %v %v at %d in epoch %d",
				i, e.Key, e.Report, e.Estimate, e.Epoch, w.key, w.report, w.estimate, w.epoch)
		}
		if e.Report == cms.ReportCrossed {
			crossed++
		} else {
			dropped++
		}
	}
	return crossed, dropped
}

// TestKernel_ReplayDetector replays every capture through the detector, at
// the lab's d = 2 and at every other depth up to 8 (each has its own
// straight-line copy in the kernel) and 9 (the kernel's loop), and with
// rows wider than a per-CPU element at d = 2 and 9, with the
// threshold lowered so that the captures hold heavy hitters; every verdict
// must equal the Go model's, every report (crossings and first drops) the
// model's, in order, and every flow with a dropped packet must be
// reported.
func TestKernel_ReplayDetector(t *testing.T) {
	caps := captures(t)
	const thr = 20
	type dcase struct{ depth, width uint32 }
	var cases []dcase
	for _, depth := range []uint32{2, 1, 3, 4, 5, 6, 7, 8, 9} {
		cases = append(cases, dcase{depth, 4096})
	}
	// rows cut into chunks (see layout), in straight-line code and in the loop
	cases = append(cases, dcase{2, 2*pcpuChunk + 3}, dcase{9, 2*pcpuChunk + 3})
	for _, tc := range cases {
		depth := tc.depth
		t.Run(fmt.Sprintf("d=%d/w=%d", depth, tc.width), func(t *testing.T) {
			kerneltest.PinCPU(t) // a subtest runs on its own goroutine
			p := cms.Params{Width: tc.width, Depth: depth, Seed: testSeed}
			k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: thr, EventsBytes: 1 << 20})
			d, _ := cms.NewDetector(p, thr)
			packets, drops, want := replayDetector(t, k, d, caps)
			crossed, dropped := compareEvents(t, k, want)
			if drops == 0 || crossed == 0 || dropped == 0 {
				t.Fatalf("%d drops, %d crossings, %d drop reports: the replay does not test both reports", drops, crossed, dropped)
			}
			compareSketches(t, k, d.Sketch())
			t.Logf("%d frames: %d dropped, %d crossings and %d first drops reported, verdicts all equal", packets, drops, crossed, dropped)
		})
	}
}

// TestKernel_DetectorEpochs: with Options.Epochs, every epoch is a fresh
// interval of the detector. The captures run through the kernel flipped
// every 997 packets give the verdicts and reports of a Go detector reset
// at the same packets ([cms.Detector.Reset]), in order, each report naming
// the epoch it was made in; each Flip returns the Go detector's sketch of
// the epoch that ended, the passed packets only; a flow detected in one
// epoch is reported again in a later one; Reset clears both epochs'
// counters and reports.
func TestKernel_DetectorEpochs(t *testing.T) {
	caps := captures(t)
	kerneltest.PinCPU(t)
	const thr = 20
	// Straight-line code and the kernel's loop, narrow enough that flows
	// collide within an epoch (for reports of first drops); and rows cut
	// into chunks (see layout), where epoch 1 starts past epoch 0's
	// chunks, too wide for such collisions.
	for _, tc := range []struct {
		depth, width uint32
		collide      bool
	}{{2, 512, true}, {9, 64, true}, {2, 2*pcpuChunk + 5, false}} {
		t.Run(fmt.Sprintf("d=%d/w=%d", tc.depth, tc.width), func(t *testing.T) {
			kerneltest.PinCPU(t) // a subtest runs on its own goroutine
			p := cms.Params{Width: tc.width, Depth: tc.depth, Seed: testSeed}
			k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: thr, EventsBytes: 1 << 22, Epochs: true})
			d, _ := cms.NewDetector(p, thr)
			packets, drops, want := replayDetectorFlips(t, k, d, caps, 997)
			if packets < 4*997 {
				t.Fatalf("%d packets: too few for the flips to matter", packets)
			}
			crossed, dropped := compareEvents(t, k, want)
			if drops == 0 || crossed == 0 || (tc.collide && dropped == 0) {
				t.Fatalf("%d drops, %d crossings, %d drop reports: the replay does not test both reports", drops, crossed, dropped)
			}
			// A flow reported in both epochs was forgotten by the flip
			// between: the model, reset there, reported it again.
			in := map[flow.Key][2]bool{}
			again := 0
			for _, e := range want {
				seen := in[e.key]
				if !seen[e.epoch] && seen[1-e.epoch] {
					again++
				}
				seen[e.epoch] = true
				in[e.key] = seen
			}
			if again == 0 {
				t.Fatal("no flow reported in both epochs: the replay does not test the reports' reset")
			}
			compareSketches(t, k, d.Sketch()) // the current epoch
			// Reset clears both epochs, reports included: the flows the
			// current epoch reported are reported again.
			if err := k.Reset(); err != nil {
				t.Fatal(err)
			}
			for ep := range 2 {
				if s, err := k.Read(ep); err != nil || s.Total() != 0 {
					t.Fatalf("epoch %d after Reset: %v, want an empty sketch", ep, err)
				}
			}
			d.Reset()
			_, _, want = replayDetectorFlips(t, k, d, caps[:1], 0)
			epoch, err := k.Epoch()
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				want[i].epoch = epoch
			}
			compareEvents(t, k, want) // and the statistics, which Reset zeroed
			t.Logf("%d frames, a flip every 997: %d dropped, %d crossings and %d first drops reported, %d reported again in a later epoch",
				packets, drops, crossed, dropped, again)
		})
	}
}

// TestKernel_DetectorEpochReports: the memory of reported flows is the
// epoch's. With w = 1 and threshold 3, each epoch plays A A B A: B's
// packet brings the minimum to 3 (B crossed), A's next is dropped and
// reported as a first drop, as A was never reported in this epoch,
// though it was, the same way, in the epochs before. So every epoch, both
// epochs' caches in turn, and again after Reset, which clears both. Clear
// of the other epoch leaves the current one's memory: A, dropped again,
// is not reported again.
func TestKernel_DetectorEpochReports(t *testing.T) {
	kerneltest.PinCPU(t)
	p := cms.LabParams(1, testSeed)
	k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: 3, Epochs: true})
	fa, fb := fixtures(t)["ipv4-tcp"], fixtures(t)["ipv4-udp"]
	a, _ := flow.Parse(fa)
	b, _ := flow.Parse(fb)
	seq := [][]byte{fa, fa, fb, fa}
	round := []capturedFrames{{"A A B A", seq}, {"A A B A", seq}, {"A A B A", seq}, {"A A B A", seq}}
	d, _ := cms.NewDetector(p, 3)
	// Epochs 0, 1, 0 and 1, a flip after each but the last.
	_, drops, want := replayDetectorFlips(t, k, d, round[:3], len(seq))
	_, drops4, want4 := replayDetectorFlips(t, k, d, round[3:], 0)
	for i := range want4 {
		want4[i].epoch = 1
	}
	want = append(want, want4...)
	var wantEv []modelEvent
	for e := range 4 {
		wantEv = append(wantEv, modelEvent{b.Key, cms.ReportCrossed, 3, e % 2}, modelEvent{a.Key, cms.ReportDropped, 3, e % 2})
	}
	if drops+drops4 != 4 || !slices.Equal(want, wantEv) {
		t.Fatalf("Go model: %d drops, reports %+v; want 4 drops, reports %+v", drops+drops4, want, wantEv)
	}
	compareEvents(t, k, want)
	if err := k.Clear(0); err != nil { // the current epoch is 1
		t.Fatal(err)
	}
	if drop, r := d.FilterReport(a.Key.Bytes()); !drop || r != cms.ReportNone {
		t.Fatalf("Go model: A again: drop %v, report %v; want a drop and no report", drop, r)
	}
	if v, _ := kerneltest.Run(t, k.Program(), fa); v != VerdictDrop {
		t.Fatalf("A again: kernel verdict %d, want %d (drop)", v, VerdictDrop)
	}
	if ev, err := k.Events(); err != nil || len(ev) != 0 {
		t.Fatalf("A dropped again after Clear(0), in epoch 1: kernel reported %+v (%v), want nothing", ev, err)
	}
	if err := k.Reset(); err != nil {
		t.Fatal(err)
	}
	d.Reset()
	_, _, want = replayDetectorFlips(t, k, d, round[:1], 0)
	for i := range want {
		want[i].epoch = 1
	}
	if !slices.Equal(want, wantEv[6:]) {
		t.Fatalf("Go model after Reset: reports %+v, want %+v", want, wantEv[6:])
	}
	compareEvents(t, k, want)
}

// TestKernel_DetectorReportsDroppedFlow: with w = 1 every flow shares the
// counters. Threshold 3: elephant A sends two packets, mouse B one, which
// brings the minimum to 3 (B is reported as crossed), then A's next five
// are dropped. A, dropped without crossing, used to go unreported; now its
// first drop reports it, and only its first.
func TestKernel_DetectorReportsDroppedFlow(t *testing.T) {
	kerneltest.PinCPU(t)
	p := cms.LabParams(1, testSeed)
	k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: 3})
	fa, fb := fixtures(t)["ipv4-tcp"], fixtures(t)["ipv4-udp"]
	a, _ := flow.Parse(fa)
	b, _ := flow.Parse(fb)
	seq := [][]byte{fa, fa, fb, fa, fa, fa, fa, fa}
	d, _ := cms.NewDetector(p, 3)
	_, drops, want := replayDetector(t, k, d, []capturedFrames{{"A A B A A A A A", seq}})
	if drops != 5 {
		t.Fatalf("%d drops, want A's last 5", drops)
	}
	compareEvents(t, k, want)
	wantEv := []modelEvent{{b.Key, cms.ReportCrossed, 3, 0}, {a.Key, cms.ReportDropped, 3, 0}}
	if !slices.Equal(want, wantEv) {
		t.Fatalf("reports %+v, want %+v", want, wantEv)
	}
}

// TestKernel_DetectorReportSlots: two dropped flows whose hashes share a
// report slot take it in turn, and each is reported again each time it
// takes it back (a repeat, never a miss); the kernel picks the slot as the
// Go model does.
func TestKernel_DetectorReportSlots(t *testing.T) {
	kerneltest.PinCPU(t)
	p := cms.LabParams(1, testSeed)
	k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: 1})
	// Two UDP flows differing in the source port whose report slots
	// collide, found by search (the Go model's slot is the one checked).
	frame := func(sport uint16) []byte {
		f := slices.Clone(fixtures(t)["ipv4-udp"])
		f[14+20], f[14+20+1] = byte(sport>>8), byte(sport)
		return f
	}
	slot := func(f []byte) uint32 {
		info, err := flow.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		return flow.Index(info.Key.Hash(testSeed), cms.MaxDepth, cms.ReportSlots)
	}
	fa := frame(1000)
	var fb []byte
	for sp := uint16(1001); fb == nil; sp++ {
		if f := frame(sp); slot(f) == slot(fa) {
			fb = f
		}
	}
	seq := [][]byte{fa, fa, fa, fb, fb, fa, fa, fb}
	d, _ := cms.NewDetector(p, 1)
	_, _, want := replayDetector(t, k, d, []capturedFrames{{"A A A B B A A B", seq}})
	compareEvents(t, k, want)
	var got []cms.Report
	for _, e := range want {
		got = append(got, e.report)
	}
	// A crosses; A's drop is not reported (A holds the slot); B takes the
	// slot; B again: no; A takes it back; A again: no; B takes it back.
	if w := []cms.Report{cms.ReportCrossed, cms.ReportDropped, cms.ReportDropped, cms.ReportDropped}; !slices.Equal(got, w) {
		t.Fatalf("reports %v, want %v", got, w)
	}
}

// ringFullDetector pins the test to one CPU and loads a detector of
// threshold 1 whose report ring is one page, holding ringCap reports;
// frame(sport) is a UDP frame of its own flow for each source port.
func ringFullDetector(t *testing.T) (k *Kernel, frame func(sport uint16) []byte, ringCap int) {
	t.Helper()
	kerneltest.PinCPU(t)
	p := cms.Params{Width: 1 << 16, Depth: 2, Seed: testSeed}
	k = load(t, Options{Params: p, Mode: ModeDetect, Threshold: 1, EventsBytes: os.Getpagesize()})
	frame = func(sport uint16) []byte {
		f := slices.Clone(fixtures(t)["ipv4-udp"])
		f[14+20], f[14+20+1] = byte(sport>>8), byte(sport)
		return f
	}
	// A ring record is a cms_event and its 8-byte header.
	return k, frame, os.Getpagesize() / (int(unsafe.Sizeof(cmsCmsEvent{})) + 8)
}

// TestKernel_DetectorReportsAfterRingFull: a report lost to a full ring
// buffer is not remembered, so the flow's next dropped packet reports it.
// Threshold 1 and a one-page ring: the first packet of each of 3*cap/2
// flows crosses, and the ring holds only about cap reports; the rest are
// lost. Once the ring is drained, every flow's second packet is dropped,
// and exactly the flows whose report was lost are reported, as dropped.
func TestKernel_DetectorReportsAfterRingFull(t *testing.T) {
	k, frame, ringCap := ringFullDetector(t)
	n := 3 * ringCap / 2
	keys := make([]flow.Key, n)
	for i := range keys {
		info, err := flow.Parse(frame(uint16(1000 + i)))
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = info.Key
		if v, _ := kerneltest.Run(t, k.Program(), frame(uint16(1000+i))); v != 2 {
			t.Fatalf("flow %d's first packet: verdict %d, want XDP_PASS", i, v)
		}
	}
	first, err := k.Events()
	if err != nil {
		t.Fatal(err)
	}
	st, _ := k.Stats()
	if len(first) == 0 || st.EventsLost == 0 || uint64(len(first))+st.EventsLost != uint64(n) {
		t.Fatalf("%d flows crossed: %d reported, %d lost; want some of each, adding up", n, len(first), st.EventsLost)
	}
	reported := map[flow.Key]bool{}
	for _, e := range first {
		if e.Report != cms.ReportCrossed {
			t.Fatalf("first round: %v reported %v, want crossed", e.Key, e.Report)
		}
		reported[e.Key] = true
	}
	for i := range keys {
		if v, _ := kerneltest.Run(t, k.Program(), frame(uint16(1000+i))); v != 1 {
			t.Fatalf("flow %d's second packet: verdict %d, want XDP_DROP", i, v)
		}
	}
	second, err := k.Events()
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(second)) != st.EventsLost {
		t.Errorf("after the drain, %d flows reported again; want the %d whose report was lost", len(second), st.EventsLost)
	}
	for _, e := range second {
		if e.Report != cms.ReportDropped || reported[e.Key] {
			t.Errorf("second round: %v reported %v (reported before: %v); want a lost flow, dropped", e.Key, e.Report, reported[e.Key])
		}
		reported[e.Key] = true
	}
	for i, key := range keys {
		if !reported[key] {
			t.Errorf("flow %d (%v) dropped, never reported", i, key)
		}
	}
}

// BenchmarkKernel measures each mode on up to 2000 frames of the captures
// (the fixtures without DATAPLANE_TRAFFIC_DIR) with cache-resident counters,
// net of the XDP_DROP floor measured in the same loop. "parse+hash" is the
// flow/xdp kernel (parse, hash, a per-CPU digest): what every mode pays
// before touching the sketch.
func BenchmarkKernel(b *testing.B) {
	var frames [][]byte
	if os.Getenv(traffic.EnvDir) != "" {
		for _, path := range traffic.MainFiles(b) {
			for _, f := range traffic.Frames(b, path) {
				if len(f) >= kerneltest.MinFrame {
					frames = append(frames, kerneltest.Clip(f))
				}
			}
		}
		// 2000 frames spread over every main capture
		step := max(1, len(frames)/2000)
		var picked [][]byte
		for i := 0; i < len(frames); i += step {
			picked = append(picked, frames[i])
		}
		frames = picked
	} else {
		for _, f := range fixtures(b) {
			frames = append(frames, f)
		}
	}
	b.Run("parse+hash", func(b *testing.B) {
		kerneltest.Require(b)
		k, err := flowxdp.Load(flowxdp.Options{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer k.Close()
		kerneltest.Bench(b, k.Program(), frames)
	})
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"sketch/shared/d=4", Options{Params: cms.Params{Width: 2048, Depth: 4, Seed: 1}, Mode: ModeShared}},
		{"sketch/per-cpu/d=4", Options{Params: cms.Params{Width: 2048, Depth: 4, Seed: 1}, Mode: ModePerCPU}},
		{"sketch/shared/d=4/epochs", Options{Params: cms.Params{Width: 2048, Depth: 4, Seed: 1}, Mode: ModeShared, Epochs: true}},
		{"sketch/per-cpu/d=4/epochs", Options{Params: cms.Params{Width: 2048, Depth: 4, Seed: 1}, Mode: ModePerCPU, Epochs: true}},
		{"detect/d=2", Options{Params: cms.LabParams(4096, 1), Mode: ModeDetect}},
		{"detect/d=2/epochs", Options{Params: cms.LabParams(4096, 1), Mode: ModeDetect, Epochs: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			k := load(b, bc.opts)
			kerneltest.Bench(b, k.Program(), frames)
		})
	}
}

// BenchmarkKernelRead measures Read and Flip of a sketch with epochs, d =
// 4 rows of 2^18 counters (4 MiB an epoch), in both sketch modes, into a
// new sketch and into one kept from call to call (ReadInto, FlipInto).
func BenchmarkKernelRead(b *testing.B) {
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		for _, op := range []string{"read", "read-into", "flip", "flip-into"} {
			b.Run(fmt.Sprintf("mode=%v/op=%s", mode, op), func(b *testing.B) {
				p := cms.Params{Width: 1 << 18, Depth: 4, Seed: 1}
				k := load(b, Options{Params: p, Mode: mode, Epochs: true})
				dst := cms.MustNew(p)
				kerneltest.BenchMillis(b, op, func() error {
					var err error
					switch op {
					case "read":
						_, err = k.Read(0)
					case "read-into":
						err = k.ReadInto(0, dst)
					case "flip":
						_, err = k.Flip()
					default:
						err = k.FlipInto(dst)
					}
					return err
				})
			})
		}
	}
}
