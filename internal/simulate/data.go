package simulate

// Reference data of the simulated world: names, places, apps. All of it
// was written for Logbook; coordinates are those of the city centres.

// name is a display form (which may carry diacritics) and the ASCII form
// used in e-mail addresses.
type name struct{ display, ascii string }

var firstNames = []name{
	{"Amara", "amara"}, {"Kenji", "kenji"}, {"Sofía", "sofia"}, {"Liam", "liam"}, {"Priya", "priya"},
	{"Mateus", "mateus"}, {"Aisha", "aisha"}, {"Björn", "bjorn"}, {"Mei", "mei"}, {"Oluwaseun", "oluwaseun"},
	{"Chloé", "chloe"}, {"Dmitri", "dmitri"}, {"Fatima", "fatima"}, {"Hiroshi", "hiroshi"}, {"Isabella", "isabella"},
	{"Jamal", "jamal"}, {"Ingrid", "ingrid"}, {"Rahul", "rahul"}, {"Lucía", "lucia"}, {"Tomás", "tomas"},
	{"Yuki", "yuki"}, {"Zoë", "zoe"}, {"Noah", "noah"}, {"Ananya", "ananya"}, {"Kwame", "kwame"},
	{"Elif", "elif"}, {"Marcus", "marcus"}, {"Nadia", "nadia"}, {"Olivia", "olivia"}, {"Pedro", "pedro"},
	{"Quynh", "quynh"}, {"Rosa", "rosa"}, {"Samuel", "samuel"}, {"Tariq", "tariq"}, {"Ulla", "ulla"},
	{"Valentina", "valentina"}, {"Wei", "wei"}, {"Ximena", "ximena"}, {"Yasmin", "yasmin"}, {"Zainab", "zainab"},
	{"Aroha", "aroha"}, {"Benedikt", "benedikt"}, {"Camille", "camille"}, {"Diego", "diego"}, {"Emeka", "emeka"},
	{"Freya", "freya"}, {"Gabriel", "gabriel"}, {"Hana", "hana"}, {"Ivan", "ivan"}, {"Jun", "jun"},
	{"Keanu", "keanu"}, {"Leila", "leila"}, {"Malik", "malik"}, {"Niamh", "niamh"}, {"Oscar", "oscar"},
	{"Paulina", "paulina"}, {"Ravi", "ravi"}, {"Siobhán", "siobhan"}, {"Thandiwe", "thandiwe"}, {"Emily", "emily"},
}

var lastNames = []name{
	{"Okafor", "okafor"}, {"Tanaka", "tanaka"}, {"García", "garcia"}, {"Murphy", "murphy"}, {"Sharma", "sharma"},
	{"Oliveira", "oliveira"}, {"Haddad", "haddad"}, {"Lindqvist", "lindqvist"}, {"Chen", "chen"}, {"Adeyemi", "adeyemi"},
	{"Dubois", "dubois"}, {"Volkov", "volkov"}, {"Rahman", "rahman"}, {"Sato", "sato"}, {"Rossi", "rossi"},
	{"Washington", "washington"}, {"Nilsen", "nilsen"}, {"Patel", "patel"}, {"Fernández", "fernandez"}, {"Novák", "novak"},
	{"Kim", "kim"}, {"Schmidt", "schmidt"}, {"Nguyen", "nguyen"}, {"Mensah", "mensah"}, {"Yılmaz", "yilmaz"},
	{"Johnson", "johnson"}, {"Kowalski", "kowalski"}, {"O'Brien", "obrien"}, {"Smith", "smith"}, {"Costa", "costa"},
	{"Tran", "tran"}, {"Morales", "morales"}, {"Cohen", "cohen"}, {"Al-Farsi", "alfarsi"}, {"Virtanen", "virtanen"},
	{"Herrera", "herrera"}, {"Wang", "wang"}, {"Castillo", "castillo"}, {"Hosseini", "hosseini"}, {"Abubakar", "abubakar"},
	{"Ngata", "ngata"}, {"Müller", "muller"}, {"Lefèvre", "lefevre"}, {"Ramírez", "ramirez"}, {"Eze", "eze"},
	{"Andersen", "andersen"}, {"Santos", "santos"}, {"Yamamoto", "yamamoto"}, {"Petrov", "petrov"}, {"Park", "park"},
}

// city is a place users live in, travel to or attack from. Offset is the
// standard UTC offset in minutes (daylight saving time is ignored so that
// no time-zone database is needed). Prefix is the first two octets of the
// IPv4 addresses handed out there.
type city struct {
	name, region, country, iso, continent string
	lat, lon                              float64
	offset                                int
	prefix                                [2]byte
}

// homeCities are where employees live.
var homeCities = []city{
	{"Toronto", "Ontario", "Canada", "CA", "North America", 43.6532, -79.3832, -300, [2]byte{99, 231}},
	{"Vancouver", "British Columbia", "Canada", "CA", "North America", 49.2827, -123.1207, -480, [2]byte{24, 86}},
	{"New York", "New York", "United States", "US", "North America", 40.7128, -74.0060, -300, [2]byte{72, 229}},
	{"Austin", "Texas", "United States", "US", "North America", 30.2672, -97.7431, -360, [2]byte{70, 114}},
	{"Portland", "Oregon", "United States", "US", "North America", 45.5152, -122.6784, -480, [2]byte{73, 37}},
	{"Chicago", "Illinois", "United States", "US", "North America", 41.8781, -87.6298, -360, [2]byte{98, 213}},
	{"Mexico City", "Ciudad de México", "Mexico", "MX", "North America", 19.4326, -99.1332, -360, [2]byte{187, 188}},
	{"São Paulo", "São Paulo", "Brazil", "BR", "South America", -23.5505, -46.6333, -180, [2]byte{177, 92}},
	{"Buenos Aires", "Buenos Aires", "Argentina", "AR", "South America", -34.6037, -58.3816, -180, [2]byte{181, 46}},
	{"Bogotá", "Bogotá D.C.", "Colombia", "CO", "South America", 4.7110, -74.0721, -300, [2]byte{186, 80}},
	{"London", "England", "United Kingdom", "GB", "Europe", 51.5074, -0.1278, 0, [2]byte{81, 2}},
	{"Dublin", "Leinster", "Ireland", "IE", "Europe", 53.3498, -6.2603, 0, [2]byte{89, 101}},
	{"Berlin", "Berlin", "Germany", "DE", "Europe", 52.5200, 13.4050, 60, [2]byte{91, 64}},
	{"Paris", "Île-de-France", "France", "FR", "Europe", 48.8566, 2.3522, 60, [2]byte{90, 45}},
	{"Madrid", "Madrid", "Spain", "ES", "Europe", 40.4168, -3.7038, 60, [2]byte{83, 52}},
	{"Stockholm", "Stockholm County", "Sweden", "SE", "Europe", 59.3293, 18.0686, 60, [2]byte{85, 224}},
	{"Warsaw", "Masovia", "Poland", "PL", "Europe", 52.2297, 21.0122, 60, [2]byte{83, 31}},
	{"Lagos", "Lagos", "Nigeria", "NG", "Africa", 6.5244, 3.3792, 60, [2]byte{102, 89}},
	{"Nairobi", "Nairobi County", "Kenya", "KE", "Africa", -1.2921, 36.8219, 180, [2]byte{105, 160}},
	{"Cape Town", "Western Cape", "South Africa", "ZA", "Africa", -33.9249, 18.4241, 120, [2]byte{105, 224}},
	{"Bengaluru", "Karnataka", "India", "IN", "Asia", 12.9716, 77.5946, 330, [2]byte{106, 51}},
	{"Singapore", "Singapore", "Singapore", "SG", "Asia", 1.3521, 103.8198, 480, [2]byte{116, 86}},
	{"Tokyo", "Tokyo", "Japan", "JP", "Asia", 35.6762, 139.6503, 540, [2]byte{126, 15}},
	{"Seoul", "Seoul", "South Korea", "KR", "Asia", 37.5665, 126.9780, 540, [2]byte{121, 134}},
	{"Sydney", "New South Wales", "Australia", "AU", "Oceania", -33.8688, 151.2093, 600, [2]byte{101, 160}},
	{"Auckland", "Auckland", "New Zealand", "NZ", "Oceania", -36.8485, 174.7633, 720, [2]byte{122, 56}},
}

// travelCities are extra destinations for business trips.
var travelCities = []city{
	{"Lisbon", "Lisbon", "Portugal", "PT", "Europe", 38.7223, -9.1393, 0, [2]byte{85, 243}},
	{"Amsterdam", "North Holland", "Netherlands", "NL", "Europe", 52.3676, 4.9041, 60, [2]byte{84, 104}},
	{"Dubai", "Dubai", "United Arab Emirates", "AE", "Asia", 25.2048, 55.2708, 240, [2]byte{94, 200}},
	{"San Francisco", "California", "United States", "US", "North America", 37.7749, -122.4194, -480, [2]byte{67, 169}},
	{"Istanbul", "Istanbul", "Turkey", "TR", "Asia", 41.0082, 28.9784, 180, [2]byte{88, 230}},
	{"Shanghai", "Shanghai", "China", "CN", "Asia", 31.2304, 121.4737, 480, [2]byte{116, 228}},
	{"Hong Kong", "Hong Kong", "Hong Kong", "HK", "Asia", 22.3193, 114.1694, 480, [2]byte{112, 118}},
	{"Lima", "Lima", "Peru", "PE", "South America", -12.0464, -77.0428, -300, [2]byte{190, 235}},
}

// reportedCountries are watched by report-only firewall rules: a sign-in
// from there succeeds but is reported (category firewall_reported_success).
var reportedCountries = []string{"CN", "TR", "AE"}

// hostileCities are where blocked and brute-force attempts come from.
// The account's firewall blocks their countries or continents.
var hostileCities = []city{
	{"Moscow", "Moscow", "Russia", "RU", "Europe", 55.7558, 37.6173, 180, [2]byte{95, 165}},
	{"Saint Petersburg", "Saint Petersburg", "Russia", "RU", "Europe", 59.9311, 30.3609, 180, [2]byte{178, 66}},
	{"Pyongyang", "Pyongyang", "North Korea", "KP", "Asia", 39.0392, 125.7625, 540, [2]byte{175, 45}},
	{"Tehran", "Tehran", "Iran", "IR", "Asia", 35.6892, 51.3890, 210, [2]byte{5, 160}},
	{"Minsk", "Minsk", "Belarus", "BY", "Europe", 53.9006, 27.5590, 180, [2]byte{37, 212}},
	{"McMurdo Station", "Ross Dependency", "Antarctica", "AQ", "Antarctica", -77.8419, 166.6863, 720, [2]byte{157, 132}},
}

// blockedContinents are blocked whole by the firewall.
var blockedContinents = []string{"Antarctica"}

// anonymousCities are exits of anonymising networks (Tor, open proxies):
// attempts through them are blocked as anonymous whatever their location.
var anonymousCities = []city{
	{"Frankfurt am Main", "Hesse", "Germany", "DE", "Europe", 50.1109, 8.6821, 60, [2]byte{185, 220}},
	{"Amsterdam", "North Holland", "Netherlands", "NL", "Europe", 52.3676, 4.9041, 60, [2]byte{185, 100}},
	{"Bucharest", "Bucharest", "Romania", "RO", "Europe", 44.4268, 26.1025, 120, [2]byte{185, 165}},
}

// dataCentres host the CLI runners of service accounts and the SCIM bridge.
var dataCentres = []city{
	{"Ashburn", "Virginia", "United States", "US", "North America", 39.0438, -77.4874, -300, [2]byte{3, 208}},
	{"Dublin", "Leinster", "Ireland", "IE", "Europe", 53.3498, -6.2603, 0, [2]byte{34, 240}},
	{"Boardman", "Oregon", "United States", "US", "North America", 45.8399, -119.7006, -480, [2]byte{44, 226}},
}

var companies = []struct{ name, domain string }{
	{"Halcyon Labs", "halcyonlabs.example"},
	{"Brightwater Logistics", "brightwater.example"},
	{"Juniper & Vale", "junipervale.example"},
	{"Northwind Analytics", "northwind-analytics.example"},
	{"Kestrel Health", "kestrelhealth.example"},
}

var departments = []string{"Engineering", "Infrastructure", "Sales", "Marketing", "Finance", "Customer Support", "People", "Legal", "Design", "Security"}

// sharedVaultNames are the shared vaults of a department, beyond the one
// named after it.
var deptVaults = map[string][]string{
	"Engineering":      {"Engineering", "Staging Secrets", "Third-party APIs"},
	"Infrastructure":   {"Infrastructure", "Production", "Cloud Root Accounts"},
	"Sales":            {"Sales", "CRM"},
	"Marketing":        {"Marketing", "Social Media"},
	"Finance":          {"Finance", "Banking", "Payroll"},
	"Customer Support": {"Customer Support"},
	"People":           {"People Ops", "Benefits"},
	"Legal":            {"Legal"},
	"Design":           {"Design Tools"},
	"Security":         {"Security", "Incident Response"},
}

var newVaultNames = []string{"Q3 Launch", "Partner Portal", "Office Wi-Fi", "Conference 2026", "Vendor Access", "Migration Temp", "Audit Evidence", "Contractors"}
var newGroupNames = []string{"Contractors", "On-call", "Project Atlas", "Interns", "Data Team", "Leadership"}
var templateNames = []string{"Server", "VPN Config", "API Credential", "Wireless Router", "Bank Account"}
var reportNames = []string{"activity-log", "watchtower", "domain-breach", "team-usage", "user-report"}
var tokenNames = []string{"GitHub Actions", "Terraform", "Kubernetes Operator", "Ansible", "Backup Job", "Test"}
var managedCompanies = []string{"Acorn Dental", "Riverside Bakery", "Orbit Freight"}

// Client builds seen in 1Password's telemetry are 8-digit numbers for the
// desktop, mobile and extension apps of version 8.
var (
	appVersions     = []string{"81100032", "81100040", "81090021", "81080040"}
	oldAppVersion   = "70902005" // 1Password 7: reports item usages as "other"
	webVersions     = []string{"1817", "1842", "1865"}
	cliVersions     = []string{"2300001", "2310001", "2290000"}
	scimVersion     = "2090200"
	oldModernVers   = "70700015" // too old to sign in
	macModels       = []string{"MacBookPro18,3", "MacBookAir10,1", "Mac14,2", "Mac15,6", "iMac21,1"}
	macOSVersions   = []string{"14.6.1", "15.1", "15.2", "13.7"}
	winVersions     = []string{"10.0.22631", "10.0.19045", "10.0.26100"}
	linuxVersions   = []string{"6.8.0", "6.1.0", "6.11.5"}
	iosVersions     = []string{"17.6", "18.1", "18.2"}
	androidVersions = []string{"14", "15", "13"}
	iPhoneModels    = []string{"iPhone15,2", "iPhone16,1", "iPhone14,5"}
	androidModels   = []string{"Pixel 8", "SM-S921B", "Pixel 7a"}
	chromeVersions  = []string{"131.0.6778.86", "130.0.6723.117", "131.0.6778.109"}
	firefoxVersions = []string{"133.0", "132.0.2"}
	safariVersions  = []string{"18.1", "18.2", "17.6"}
	edgeVersions    = []string{"131.0.2903.70", "130.0.2849.80"}
)

var browsers = []struct {
	name     string
	versions []string
}{
	{"Chrome", chromeVersions}, {"Firefox", firefoxVersions}, {"Safari", safariVersions}, {"Edge", edgeVersions}, {"Brave", chromeVersions},
}
