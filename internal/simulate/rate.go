package simulate

import "math"

// perUserMinute is the weekly average number of events per person per
// minute at Intensity 1 (measured over 60-day runs of several seeds).
const perUserMinute = 0.0131

// maxIntensity keeps per-hour sign-in chances below one.
const maxIntensity = 3

// ForRate returns the number of people and the intensity that give about
// perMinute events per minute on average over a week (working hours see
// more, nights and weekends less). It never returns fewer than 5 people.
func ForRate(perMinute float64) (users int, intensity float64) {
	if perMinute <= 0 {
		return 5, 1
	}
	users = 40
	intensity = perMinute / (perUserMinute * float64(users))
	if intensity > maxIntensity {
		intensity = maxIntensity
		// Activity grows less than linearly near the cap (one sign-in per
		// person per hour at most): about 0.8 of the linear estimate.
		users = int(math.Ceil(perMinute / (perUserMinute * maxIntensity * 0.8)))
	}
	if intensity < 0.05 {
		intensity = 0.05
		users = max(5, int(math.Ceil(perMinute/(perUserMinute*intensity))))
	}
	return users, intensity
}
