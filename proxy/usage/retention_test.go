package usage

import (
	"testing"
	"time"
)

func TestRetentionApprox(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in   Retention
		want time.Duration
	}{
		{Retention{}, 396 * day}, // the default, 13 months: 395.72 days
		{DefaultRetention, 396 * day},
		{Retention{Months: 1}, 30 * day},
		{Retention{Months: 12}, 365 * day},
		{Retention{Days: 400}, 400 * day},
		{Retention{Months: 1, Days: 1}, 31 * day},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			if got := tt.in.Approx(); got != tt.want {
				t.Errorf("Approx = %v days, want %v", got/day, tt.want/day)
			}
		})
	}
}
