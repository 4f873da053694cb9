package layers

import (
	"fmt"
	"io"
	"strings"
)

// Summary writes a torchsummary-style table of s for one input of shape in
// (batch first; the batch is shown as -1): each layer's name and type, output
// shape and parameter count, then the totals and memory estimates in MB for
// one sample (float32), as torchsummary prints them.
func (s *Sequential) Summary(w io.Writer, in Shape) error {
	shapes, err := s.Shapes(in.WithBatch(1))
	if err != nil {
		return err
	}
	var b strings.Builder
	line := strings.Repeat("-", 72)
	fmt.Fprintln(&b, line)
	fmt.Fprintf(&b, "%28s  %25s %15s\n", "Layer (type)", "Output Shape", "Param #")
	fmt.Fprintln(&b, strings.Repeat("=", 72))
	total, acts := 0, 0
	for i, l := range s.layers {
		n := 0
		for _, p := range l.Params() {
			n += p.Elems()
		}
		total += n
		acts += shapes[i+1].Elems()
		fmt.Fprintf(&b, "%28s  %25s %15s\n", fmt.Sprintf("%s (%s)", l.Name(), l.Type()), shapes[i+1], Comma(n))
	}
	fmt.Fprintln(&b, strings.Repeat("=", 72))
	fmt.Fprintf(&b, "Total params: %s\n", Comma(total))
	fmt.Fprintf(&b, "Trainable params: %s\n", Comma(total))
	fmt.Fprintf(&b, "Non-trainable params: 0\n")
	fmt.Fprintln(&b, line)
	mb := func(floats int) float64 { return float64(floats) * 4 / (1 << 20) }
	inMB, fbMB, pMB := mb(shapes[0].Elems()), 2*mb(acts), mb(total)
	fmt.Fprintf(&b, "Input size (MB): %.2f\n", inMB)
	fmt.Fprintf(&b, "Forward/backward pass size (MB): %.2f\n", fbMB)
	fmt.Fprintf(&b, "Params size (MB): %.2f\n", pMB)
	fmt.Fprintf(&b, "Estimated Total Size (MB): %.2f\n", inMB+fbMB+pMB)
	fmt.Fprintln(&b, line)
	_, err = io.WriteString(w, b.String())
	return err
}

// Comma formats n with thousands separators: 46764746 -> "46,764,746".
func Comma(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
