// Package defaulttrace holds the trace cmd/dataplane replays when given no
// capture: a synthetic trace made by [capture.Generate] with [Config],
// stored gzip-compressed (about 1.6 MB) and embedded in the binary.
//
// The trace is 60,000 packets of 10,000 flows rather than more because
// generated headers take about 27 bytes per packet after gzip
// (timestamps, checksums, sequence numbers, flow identities); the embedded
// file is kept under 2 MB. Use capture.Amplify for more flows.
//
// The test TestEmbedded_IsFresh regenerates the trace and compares it with
// the embedded one, so the two cannot drift; after changing Config or the
// generator, run go generate in this directory to rewrite the file.
package defaulttrace

//go:generate go test -run TestEmbedded_IsFresh -update .

import (
	"bytes"
	_ "embed"
	"io"

	"github.com/dataplane-go/dataplane/capture"
)

// Name describes the trace in reports.
const Name = "default trace (generated: 10,000 flows, 60,000 packets, web-search flow sizes, 20% IPv6, 15% UDP, IMIX, seed 1)"

// File is the name of the embedded file.
const File = "default.pcap.gz"

// Config is the generator configuration of the embedded trace.
var Config = capture.GenConfig{
	Flows:     10_000,
	Packets:   60_000,
	FlowSizes: capture.WebSearch,
	IPv6Share: 0.2,
	UDPShare:  0.15,
	Rate:      1e6,
	Seed:      1,
}

//go:embed default.pcap.gz
var data []byte

// Bytes returns the embedded file (a gzip-compressed pcap). The slice must
// not be modified.
func Bytes() []byte { return data }

// Packets returns the packets of the embedded trace, freshly decoded: the
// caller owns them.
func Packets() ([]capture.Packet, error) {
	r, err := capture.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var pkts []capture.Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		pkts = append(pkts, p)
	}
}
