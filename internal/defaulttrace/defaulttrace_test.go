package defaulttrace

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
)

var update = flag.Bool("update", false, "rewrite "+File+" from Config")

// fresh generates the trace and returns it as pcap bytes.
func fresh(t *testing.T) []byte {
	t.Helper()
	pkts, err := capture.Generate(Config)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := capture.Write(&b, pkts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEmbedded_IsFresh compares the embedded trace, decompressed, with a
// fresh generation (the gzip bytes themselves depend on the Go version's
// compressor, the pcap bytes only on this module). With -update it
// rewrites the file, unless the embedded trace is already fresh: CI runs
// go generate and fails on any change, which a Go release compressing
// the same trace otherwise would be.
func TestEmbedded_IsFresh(t *testing.T) {
	want := fresh(t)
	if *update {
		if got, err := decompress(Bytes()); err == nil && bytes.Equal(got, want) {
			t.Logf("%s is fresh: left as it is", File)
			return
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.Write(want)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(File, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d bytes (%d uncompressed)", File, z.Len(), len(want))
		return
	}
	got, err := decompress(Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: it differs from a fresh generation of Config; run go generate in internal/defaulttrace", File)
	}
}

// decompress returns the gzip stream z decompressed.
func decompress(z []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func TestEmbedded_Size(t *testing.T) {
	if n := len(Bytes()); n > 2<<20 {
		t.Errorf("%s is %d bytes, the limit is 2 MiB", File, n)
	}
}

func TestPackets(t *testing.T) {
	pkts, err := Packets()
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != Config.Packets {
		t.Fatalf("%d packets, want %d", len(pkts), Config.Packets)
	}
	flows := map[flow.Key]bool{}
	for _, p := range pkts {
		info, err := flow.Parse(p.Data)
		if err != nil {
			t.Fatal(err)
		}
		flows[info.Key] = true
	}
	if len(flows) != Config.Flows {
		t.Errorf("%d flows, want %d", len(flows), Config.Flows)
	}
}

// TestName_DescribesConfig: the description printed in reports states
// Config's figures, so that a change to Config cannot leave it describing
// another trace.
func TestName_DescribesConfig(t *testing.T) {
	group := func(n int) string { // 10000 -> "10,000"
		s := strconv.Itoa(n)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	mix := "IMIX"
	if Config.FrameSizes != nil {
		mix = fmt.Sprint(Config.FrameSizes)
	}
	for _, want := range []string{
		group(Config.Flows) + " flows",
		group(Config.Packets) + " packets",
		Config.FlowSizes.String() + " flow sizes",
		strconv.FormatFloat(100*Config.IPv6Share, 'g', -1, 64) + "% IPv6",
		strconv.FormatFloat(100*Config.UDPShare, 'g', -1, 64) + "% UDP",
		mix,
		"seed " + strconv.FormatUint(Config.Seed, 10) + ")",
	} {
		if !strings.Contains(Name, want) {
			t.Errorf("Name %q does not say %q", Name, want)
		}
	}
}

// TestFile_NamesEmbedded: File is the embedded file's name, the one
// -update rewrites.
func TestFile_NamesEmbedded(t *testing.T) {
	b, err := os.ReadFile(File)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, Bytes()) {
		t.Errorf("%s differs from the embedded file", File)
	}
}

// TestPackets_CallerOwns: each call decodes afresh, so a caller changing
// its packets does not change another caller's.
func TestPackets_CallerOwns(t *testing.T) {
	a, err := Packets()
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(a[0].Data)
	a[0].Data[0] ^= 0xff
	a[1] = capture.Packet{}
	b, err := Packets()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[0].Data, want) || len(b[1].Data) == 0 {
		t.Error("a second call returns the packets a first caller changed")
	}
}
