module github.com/dataplane-go/dataplane

go 1.25.0

require (
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/cilium/ebpf v0.22.0
	github.com/google/gopacket v1.1.19
	golang.org/x/sys v0.43.0
)

require golang.org/x/net v0.48.0 // indirect

tool github.com/cilium/ebpf/cmd/bpf2go
