package otlpclient

import (
	"strings"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// decodeResponse decodes the partial_success (field 1) of an
// ExportTraceServiceResponse or ExportLogsServiceResponse: rejected_spans or
// rejected_log_records (1) and error_message (2). The Collector accepted
// the request whatever the response holds, so a malformed one is reported
// in the message.
func decodeResponse(b []byte) Result {
	var r Result
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		if num != 1 || typ != protowire.BytesType {
			return nil
		}
		return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
			switch {
			case num == 1 && typ == protowire.VarintType:
				r.Rejected = int64(n)
			case num == 2 && typ == protowire.BytesType:
				r.Message = string(v)
			}
			return nil
		})
	})
	if err != nil {
		return Result{Message: "accepted, but the response is malformed: " + err.Error()}
	}
	return r
}

// statusMessage returns the message (field 2) of a google.rpc.Status, or ""
// if b is not one.
func statusMessage(b []byte) string {
	var msg string
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 2 && typ == protowire.BytesType {
			msg = string(v)
		}
		return nil
	})
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(msg), " ")
}

// fields calls fn with each field of the protobuf message b: its number,
// type, and value (bytes for BytesType, else the varint or fixed value).
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		var (
			v []byte
			n uint64
		)
		switch typ {
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		case protowire.Fixed64Type:
			n, l = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var n32 uint32
			n32, l = protowire.ConsumeFixed32(b)
			n = uint64(n32)
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if err := fn(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}

// retryDelay returns the retry_delay of a google.rpc.RetryInfo detail of st.
func retryDelay(st *status.Status) (time.Duration, bool) {
	for _, d := range st.Proto().GetDetails() {
		if !strings.HasSuffix(d.GetTypeUrl(), "/google.rpc.RetryInfo") {
			continue
		}
		var delay time.Duration
		err := fields(d.GetValue(), func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			if num != 1 || typ != protowire.BytesType {
				return nil
			}
			return fields(v, func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) error {
				switch {
				case num == 1 && typ == protowire.VarintType:
					delay += time.Duration(int64(n)) * time.Second
				case num == 2 && typ == protowire.VarintType:
					delay += time.Duration(int32(n))
				}
				return nil
			})
		})
		if err == nil {
			return max(delay, 0), true
		}
	}
	return 0, false
}
