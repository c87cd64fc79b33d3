module github.com/dataplane-go/dataplane/bench

go 1.25.0

replace github.com/dataplane-go/dataplane => ../

require (
	github.com/bits-and-blooms/bloom/v3 v3.7.1
	github.com/buraksezer/consistent v0.10.0
	github.com/dataplane-go/dataplane v0.0.0-00010101000000-000000000000
	github.com/dgryski/go-jump v0.0.0-20170409065014-e1f439676b57
	github.com/dgryski/go-maglev v0.0.0-20200611225407-8961b9b1b8e6
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f
	github.com/golang/groupcache v0.0.0-20241129210726-2c02b8208cf8
	github.com/google/gopacket v1.1.19
	github.com/greatroar/blobloom v0.8.1
	github.com/holiman/bloomfilter/v2 v2.0.3
	github.com/kkdai/maglev v0.2.0
	github.com/stathat/consistent v1.0.0
	github.com/tylertreat/BoomFilters v0.0.0-20251001182300-5b3723cc64ae
)

require (
	github.com/bits-and-blooms/bitset v1.24.2 // indirect
	github.com/d4l3k/messagediff v1.2.1 // indirect
	github.com/dchest/siphash v1.2.3 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/net v0.48.0 // indirect
	golang.org/x/sys v0.43.0 // indirect
)
