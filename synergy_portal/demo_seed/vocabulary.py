"""The demo force: fixed reference data and the phrases demo opportunities are written from.

Everything here is fictional. Product names are invented (apart from national systems and
office software every force has); no text names a real person, place or case.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# (code, name)
DEPARTMENTS: list[tuple[str, str]] = [
    ("response-policing", "Response Policing"),
    ("neighbourhood-policing", "Neighbourhood Policing"),
    ("cid", "Criminal Investigation Department"),
    ("public-protection", "Public Protection"),
    ("custody", "Custody"),
    ("digital-forensics", "Digital Forensics"),
    ("contact-management", "Contact Management"),
    ("criminal-justice", "Criminal Justice"),
    ("roads-policing", "Roads Policing"),
    ("intelligence", "Intelligence"),
    ("corporate-services", "Corporate Services"),
    ("information-management", "Information Management"),
]


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    department: str
    headcount: int
    hourly_cost: Decimal


def _role(code: str, name: str, department: str, headcount: int, cost: str) -> RoleSpec:
    return RoleSpec(code, name, department, headcount, Decimal(cost))


# Loaded hourly cost: salary, employer's pension and NI, and overheads, per productive hour.
ROLES: list[RoleSpec] = [
    _role("pc-response", "Police Constable (Response)", "response-policing", 1450, "32.00"),
    _role("sergeant-response", "Sergeant (Response)", "response-policing", 190, "38.50"),
    _role("inspector", "Inspector", "response-policing", 60, "46.00"),
    _role(
        "pc-neighbourhood",
        "Police Constable (Neighbourhood)",
        "neighbourhood-policing",
        420,
        "32.00",
    ),
    _role("pcso", "Police Community Support Officer", "neighbourhood-policing", 380, "24.50"),
    _role("detective-constable", "Detective Constable", "cid", 520, "34.00"),
    _role("detective-sergeant", "Detective Sergeant", "cid", 95, "40.00"),
    _role("staff-investigator", "Police Staff Investigator", "cid", 140, "27.00"),
    _role(
        "pp-detective-constable",
        "Detective Constable (Public Protection)",
        "public-protection",
        260,
        "34.00",
    ),
    _role("safeguarding-officer", "Safeguarding Officer", "public-protection", 90, "26.00"),
    _role("custody-sergeant", "Custody Sergeant", "custody", 70, "39.00"),
    _role("detention-officer", "Detention Officer", "custody", 160, "23.50"),
    _role("custody-healthcare", "Custody Healthcare Practitioner", "custody", 30, "36.00"),
    _role("forensic-examiner", "Digital Forensic Examiner", "digital-forensics", 45, "33.00"),
    _role("forensic-technician", "Digital Forensic Technician", "digital-forensics", 25, "27.50"),
    _role("call-handler", "Call Handler", "contact-management", 310, "24.00"),
    _role("dispatcher", "Dispatcher", "contact-management", 120, "25.50"),
    _role("control-room-supervisor", "Control Room Supervisor", "contact-management", 35, "31.00"),
    _role("case-file-builder", "Case File Builder", "criminal-justice", 85, "24.50"),
    _role("witness-care-officer", "Witness Care Officer", "criminal-justice", 40, "23.00"),
    _role("roads-policing-officer", "Roads Policing Officer", "roads-policing", 160, "33.00"),
    _role("intelligence-analyst", "Intelligence Analyst", "intelligence", 55, "30.00"),
    _role("intelligence-officer", "Intelligence Officer", "intelligence", 70, "27.00"),
    _role("ci-analyst", "Continuous Improvement Analyst", "corporate-services", 12, "31.00"),
    _role("business-support", "Business Support Officer", "corporate-services", 150, "21.50"),
    _role("superintendent", "Superintendent", "corporate-services", 20, "62.00"),
    _role(
        "information-officer",
        "Information Management Officer",
        "information-management",
        45,
        "25.00",
    ),
    _role("systems-administrator", "Systems Administrator", "information-management", 25, "30.00"),
]


@dataclass(frozen=True)
class ApplicationSpec:
    slug: str
    name: str
    vendor: str
    description: str
    lifecycle: str
    hosting: str
    debt_rating: int
    business_owner: str


APPLICATIONS: list[ApplicationSpec] = [
    ApplicationSpec(
        "sentinel-rms",
        "Sentinel RMS",
        "Keystone Public Safety",
        "Records management: crimes, people, locations, intelligence and case papers.",
        "live",
        "on_premises",
        3,
        "Head of Crime and Justice",
    ),
    ApplicationSpec(
        "custodypoint",
        "CustodyPoint",
        "Brightwater Systems",
        "Custody records, detention reviews and custody risk assessments.",
        "live",
        "iaas",
        2,
        "Head of Custody",
    ),
    ApplicationSpec(
        "lensvault-bwv",
        "LensVault BWV",
        "Harbour Digital",
        "Body-worn video cameras, docking and the footage library.",
        "live",
        "saas",
        2,
        "Head of Response",
    ),
    ApplicationSpec(
        "evidencehub-dems",
        "EvidenceHub DEMS",
        "Meridian Software",
        "Digital evidence management: store, review and share digital material.",
        "live",
        "saas",
        1,
        "Head of Crime and Justice",
    ),
    ApplicationSpec(
        "anpr-back-office",
        "ANPR Back Office",
        "Oakfield Technologies",
        "Automatic number plate recognition reads, hotlists and alerts.",
        "live",
        "on_premises",
        3,
        "Head of Roads Policing",
    ),
    ApplicationSpec(
        "beacon-command-control",
        "Beacon Command & Control",
        "Blue Lamp Solutions",
        "Incident logs, resource dispatch and the control room map.",
        "live",
        "on_premises",
        4,
        "Head of Contact Management",
    ),
    ApplicationSpec(
        "microsoft-365",
        "Microsoft 365",
        "Microsoft",
        "E-mail, Teams, OneDrive and Office documents.",
        "live",
        "saas",
        1,
        "Head of IT",
    ),
    ApplicationSpec(
        "casebuilder",
        "CaseBuilder",
        "Saltire Systems",
        "Prepares prosecution case files and the schedules of unused material.",
        "sunset",
        "on_premises",
        4,
        "Head of Criminal Justice",
    ),
    ApplicationSpec(
        "pnc",
        "Police National Computer (PNC)",
        "Home Office",
        "National records of people, vehicles and property.",
        "live",
        "on_premises",
        4,
        "Head of Information Management",
    ),
    ApplicationSpec(
        "pnd",
        "Police National Database (PND)",
        "Home Office",
        "National intelligence and records search across forces.",
        "live",
        "iaas",
        3,
        "Head of Intelligence",
    ),
    ApplicationSpec(
        "corvid-intelligence",
        "Corvid Intelligence",
        "Corvid Analytics",
        "Intelligence submissions, grading, tasking and analysis.",
        "live",
        "paas",
        2,
        "Head of Intelligence",
    ),
    ApplicationSpec(
        "intellog-legacy",
        "IntelLog (legacy)",
        "In-house",
        "The old intelligence log, kept read-only for historic records.",
        "decommission_planned",
        "on_premises",
        5,
        "Head of Intelligence",
    ),
    ApplicationSpec(
        "forensic-case-tracker",
        "Forensic Case Tracker",
        "In-house",
        "Tracks digital forensic submissions, queues and results.",
        "live",
        "on_premises",
        4,
        "Head of Digital Forensics",
    ),
    ApplicationSpec(
        "pocketbook-mobile",
        "Pocketbook Mobile",
        "Harbour Digital",
        "Mobile policing app: searches, forms and pocket notebook.",
        "live",
        "saas",
        2,
        "Head of Response",
    ),
    ApplicationSpec(
        "online-reporting",
        "Online Crime Reporting",
        "Thistle Digital",
        "Public web forms for reporting crime and incidents online.",
        "live",
        "saas",
        2,
        "Head of Contact Management",
    ),
    ApplicationSpec(
        "rotamaster",
        "RotaMaster Duty Management",
        "Pennant Data",
        "Duty rosters, overtime and abstractions.",
        "live",
        "iaas",
        3,
        "Head of Resourcing",
    ),
    ApplicationSpec(
        "peoplefirst-hr",
        "PeopleFirst HR",
        "Oakfield Technologies",
        "HR records, absence and training records.",
        "live",
        "saas",
        2,
        "Head of People",
    ),
    ApplicationSpec(
        "ledgerline-finance",
        "LedgerLine Finance",
        "Saltire Systems",
        "Finance, purchasing and expenses.",
        "live",
        "saas",
        2,
        "Head of Finance",
    ),
    ApplicationSpec(
        "legacy-mis",
        "Performance Dashboards (legacy MIS)",
        "In-house",
        "The old management information reports, refreshed overnight.",
        "sunset",
        "on_premises",
        4,
        "Head of Performance",
    ),
    ApplicationSpec(
        "ddi",
        "DDI (Data Driven Insights)",
        "In-house",
        "The force data platform: every system's data, for reporting and analysis.",
        "live",
        "paas",
        1,
        "Chief Data Officer",
    ),
    ApplicationSpec(
        "cj-secure-exchange",
        "Criminal Justice Secure Exchange",
        "National service",
        "Sends case files and material to the prosecutor and the courts.",
        "live",
        "saas",
        3,
        "Head of Criminal Justice",
    ),
    ApplicationSpec(
        "court-listings",
        "Court Listings Feed",
        "National service",
        "Daily court lists and hearing results.",
        "live",
        "saas",
        3,
        "Head of Criminal Justice",
    ),
    ApplicationSpec(
        "dash-spreadsheet",
        "DASH Risk Assessment Spreadsheet",
        "In-house",
        "A spreadsheet used to record domestic abuse risk assessments.",
        "decommission_planned",
        "on_premises",
        5,
        "Head of Public Protection",
    ),
    ApplicationSpec(
        "mash-referral-tracker",
        "MASH Referral Tracker",
        "In-house",
        "An access database of referrals to the multi-agency safeguarding hub.",
        "decommission_planned",
        "on_premises",
        5,
        "Head of Public Protection",
    ),
    ApplicationSpec(
        "findfast-missing-persons",
        "FindFast Missing Persons",
        "Brightwater Systems",
        "Missing person reports, risk reviews and enquiry logs.",
        "live",
        "iaas",
        3,
        "Head of Public Protection",
    ),
    ApplicationSpec(
        "stop-search-recorder",
        "Stop and Search Recorder",
        "In-house",
        "Records stop and search encounters and receipts.",
        "live",
        "paas",
        2,
        "Head of Neighbourhood Policing",
    ),
    ApplicationSpec(
        "contact-centre-telephony",
        "Contact Centre Telephony",
        "Meridian Software",
        "Call queues, call recording and the 101 and 999 lines.",
        "live",
        "on_premises",
        3,
        "Head of Contact Management",
    ),
    ApplicationSpec(
        "radio-terminals",
        "Radio Terminals (TETRA)",
        "National service",
        "Handheld and vehicle radios.",
        "sunset",
        "on_premises",
        4,
        "Head of IT",
    ),
    ApplicationSpec(
        "property-exhibits-store",
        "Property and Exhibits Store",
        "Saltire Systems",
        "Property, exhibits, continuity and storage locations.",
        "live",
        "on_premises",
        4,
        "Head of Crime and Justice",
    ),
    ApplicationSpec(
        "fleet-booking",
        "Fleet Booking",
        "Pennant Data",
        "Books pool vehicles and records defects.",
        "live",
        "saas",
        2,
        "Head of Estates and Fleet",
    ),
    ApplicationSpec(
        "video-interview-recording",
        "Video Interview Recording",
        "Harbour Digital",
        "Records suspect and witness interviews.",
        "live",
        "on_premises",
        3,
        "Head of Crime and Justice",
    ),
    ApplicationSpec(
        "learning-portal",
        "Learning Portal",
        "Thistle Digital",
        "Online training and training records.",
        "live",
        "saas",
        1,
        "Head of Learning",
    ),
    ApplicationSpec(
        "shared-drives",
        "Shared Drives (file shares)",
        "In-house",
        "Network folders used for documents and spreadsheets.",
        "sunset",
        "on_premises",
        5,
        "Head of IT",
    ),
    ApplicationSpec(
        "sharepoint-intranet",
        "SharePoint Intranet",
        "Microsoft",
        "The force intranet, policies and team sites.",
        "live",
        "saas",
        2,
        "Head of Communications",
    ),
    ApplicationSpec(
        "biometrics-capture",
        "Biometrics Capture",
        "Home Office",
        "Fingerprint, photograph and DNA capture in custody.",
        "live",
        "on_premises",
        3,
        "Head of Custody",
    ),
    ApplicationSpec(
        "digital-forms",
        "Digital Forms Builder",
        "Thistle Digital",
        "Builds digital forms that replace paper.",
        "live",
        "paas",
        1,
        "Chief Data Officer",
    ),
    ApplicationSpec(
        "collision-reporting",
        "Collision Reporting",
        "National service",
        "Records road traffic collisions and casualties.",
        "live",
        "saas",
        3,
        "Head of Roads Policing",
    ),
    ApplicationSpec(
        "fixed-penalty-processing",
        "Fixed Penalty Processing",
        "Saltire Systems",
        "Tickets, conditional offers and payments.",
        "live",
        "on_premises",
        4,
        "Head of Roads Policing",
    ),
    ApplicationSpec(
        "legacy-custody-archive",
        "Legacy Custody Archive",
        "In-house",
        "Custody records from before the current system, read-only.",
        "decommissioned",
        "on_premises",
        5,
        "Head of Custody",
    ),
    ApplicationSpec(
        "kiosk-download",
        "Device Kiosk Download Tool",
        "Oakfield Technologies",
        "Self-service phone downloads in police stations.",
        "live",
        "on_premises",
        3,
        "Head of Digital Forensics",
    ),
]


@dataclass(frozen=True)
class StepSpec:
    name: str
    minutes: int
    applications: tuple[str, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class JourneySpec:
    slug: str
    name: str
    description: str
    department: str
    owned_by_demo_owner: bool
    risk: str  # the risk class most opportunities on this journey carry
    roles: tuple[tuple[str, str], ...]  # (role code, times per week per person)
    things: tuple[str, ...]  # the data this journey moves around, for opportunity text
    steps: tuple[StepSpec, ...]


def _step(name: str, minutes: int, apps: str, roles: str) -> StepSpec:
    return StepSpec(name, minutes, tuple(apps.split()), tuple(roles.split()))


JOURNEYS: list[JourneySpec] = [
    JourneySpec(
        "digital-forensics-evidence-hand-over",
        "Digital forensics evidence hand-over",
        "From seizing a phone or computer to the examiner handing results back to the officer in the case.",
        "digital-forensics",
        True,
        "operational",
        (
            ("detective-constable", "0.5"),
            ("forensic-examiner", "6"),
            ("forensic-technician", "8"),
            ("pc-response", "0.3"),
        ),
        (
            "exhibit references",
            "device details",
            "continuity records",
            "submission forms",
            "extraction reports",
        ),
        (
            _step(
                "Seize the device and record the exhibit",
                20,
                "sentinel-rms property-exhibits-store",
                "pc-response detective-constable",
            ),
            _step(
                "Complete the forensic submission",
                30,
                "forensic-case-tracker digital-forms",
                "detective-constable",
            ),
            _step(
                "Transport the device to the hub",
                45,
                "property-exhibits-store",
                "pc-response detective-constable",
            ),
            _step(
                "Book the exhibit into the forensic store",
                15,
                "property-exhibits-store forensic-case-tracker",
                "forensic-technician",
            ),
            _step("Triage the device at a kiosk", 40, "kiosk-download", "forensic-technician"),
            _step(
                "Extract and examine",
                240,
                "forensic-case-tracker evidencehub-dems",
                "forensic-examiner",
            ),
            _step(
                "Upload results to evidence management", 30, "evidencehub-dems", "forensic-examiner"
            ),
            _step(
                "Hand results to the officer in the case",
                15,
                "microsoft-365 evidencehub-dems",
                "forensic-examiner detective-constable",
            ),
        ),
    ),
    JourneySpec(
        "custody-booking-in",
        "Custody booking-in",
        "From arrival at the custody suite to the detained person being in a cell with their rights given.",
        "custody",
        True,
        "safeguarding",
        (
            ("custody-sergeant", "25"),
            ("detention-officer", "30"),
            ("pc-response", "1.5"),
            ("custody-healthcare", "10"),
        ),
        (
            "detainee details",
            "property records",
            "risk assessments",
            "arrest details",
            "solicitor requests",
        ),
        (
            _step(
                "Arrive and queue at custody", 20, "custodypoint", "pc-response custody-sergeant"
            ),
            _step("Confirm identity and check the PNC", 10, "pnc custodypoint", "custody-sergeant"),
            _step(
                "Record the grounds and authorise detention", 15, "custodypoint", "custody-sergeant"
            ),
            _step(
                "Custody risk assessment", 15, "custodypoint", "custody-sergeant custody-healthcare"
            ),
            _step(
                "Search and record property",
                15,
                "custodypoint property-exhibits-store",
                "detention-officer",
            ),
            _step(
                "Take fingerprints, photograph and DNA",
                20,
                "biometrics-capture custodypoint",
                "detention-officer",
            ),
            _step("Give rights and request a solicitor", 10, "custodypoint", "custody-sergeant"),
            _step(
                "Update the records management system",
                10,
                "sentinel-rms custodypoint",
                "pc-response",
            ),
        ),
    ),
    JourneySpec(
        "crime-recording",
        "Crime recording",
        "From the first call to a crime recorded, checked and allocated, with the victim kept informed.",
        "contact-management",
        False,
        "data_quality",
        (
            ("call-handler", "30"),
            ("pc-response", "8"),
            ("sergeant-response", "10"),
            ("information-officer", "40"),
        ),
        (
            "victim details",
            "crime classifications",
            "statements",
            "incident numbers",
            "victim updates",
        ),
        (
            _step(
                "Take the initial report",
                12,
                "beacon-command-control contact-centre-telephony",
                "call-handler",
            ),
            _step("Create the incident log", 8, "beacon-command-control", "call-handler"),
            _step(
                "Attend and take a statement", 60, "pocketbook-mobile lensvault-bwv", "pc-response"
            ),
            _step("Record the crime", 25, "sentinel-rms pocketbook-mobile", "pc-response"),
            _step("Crime data integrity check", 10, "sentinel-rms", "information-officer"),
            _step("Allocate for investigation", 10, "sentinel-rms", "sergeant-response"),
            _step("Update the victim", 15, "sentinel-rms microsoft-365", "pc-response"),
        ),
    ),
    JourneySpec(
        "missing-person-report",
        "Missing person report",
        "From the report of a missing person to their safe return and the return home interview.",
        "response-policing",
        False,
        "safeguarding",
        (
            ("call-handler", "3"),
            ("control-room-supervisor", "6"),
            ("pc-response", "1"),
            ("sergeant-response", "2"),
            ("inspector", "2"),
            ("safeguarding-officer", "4"),
        ),
        (
            "risk gradings",
            "descriptions and photographs",
            "search records",
            "enquiry logs",
            "return home interview referrals",
        ),
        (
            _step(
                "Receive the report from the caller",
                15,
                "beacon-command-control contact-centre-telephony",
                "call-handler",
            ),
            _step("Initial risk grading", 10, "beacon-command-control", "control-room-supervisor"),
            _step(
                "Attend and take details",
                45,
                "pocketbook-mobile findfast-missing-persons",
                "pc-response",
            ),
            _step("Search the home address", 60, "pocketbook-mobile", "pc-response"),
            _step(
                "Create the missing person record",
                20,
                "findfast-missing-persons sentinel-rms",
                "pc-response",
            ),
            _step("Circulate on the PNC", 10, "pnc", "pc-response"),
            _step(
                "Supervisor and inspector review",
                15,
                "findfast-missing-persons",
                "sergeant-response inspector",
            ),
            _step(
                "Found: refer for a return home interview",
                20,
                "findfast-missing-persons mash-referral-tracker",
                "safeguarding-officer",
            ),
        ),
    ),
    JourneySpec(
        "body-worn-video-upload",
        "Body-worn video upload",
        "From docking a camera to footage tagged, linked to the crime and shared with the prosecutor.",
        "response-policing",
        False,
        "operational",
        (
            ("pc-response", "10"),
            ("roads-policing-officer", "5"),
            ("pc-neighbourhood", "4"),
            ("case-file-builder", "15"),
        ),
        ("footage tags", "incident numbers", "crime references", "sharing requests"),
        (
            _step(
                "Dock the camera at the station",
                5,
                "lensvault-bwv",
                "pc-response roads-policing-officer",
            ),
            _step("Wait for the upload to finish", 20, "lensvault-bwv", "pc-response"),
            _step(
                "Tag footage to the incident",
                10,
                "lensvault-bwv beacon-command-control",
                "pc-response",
            ),
            _step(
                "Link footage to the crime record", 10, "lensvault-bwv sentinel-rms", "pc-response"
            ),
            _step(
                "Share footage with the prosecutor",
                15,
                "lensvault-bwv evidencehub-dems cj-secure-exchange",
                "case-file-builder",
            ),
        ),
    ),
    JourneySpec(
        "court-file-preparation",
        "Court file preparation",
        "From charge to a complete case file with the prosecutor and the witnesses warned for court.",
        "criminal-justice",
        True,
        "operational",
        (
            ("detective-constable", "1"),
            ("pc-response", "1"),
            ("case-file-builder", "12"),
            ("witness-care-officer", "20"),
            ("detective-sergeant", "3"),
        ),
        (
            "witness statements",
            "exhibit lists",
            "redactions",
            "prosecutor action plans",
            "witness availability",
        ),
        (
            _step(
                "Gather statements and exhibits",
                60,
                "sentinel-rms evidencehub-dems",
                "pc-response detective-constable",
            ),
            _step("Build the case file", 90, "casebuilder", "case-file-builder"),
            _step("Redact material", 45, "casebuilder microsoft-365", "case-file-builder"),
            _step(
                "Supervisor quality check",
                20,
                "casebuilder",
                "sergeant-response detective-sergeant",
            ),
            _step(
                "Submit the file to the prosecutor",
                10,
                "cj-secure-exchange casebuilder",
                "case-file-builder",
            ),
            _step(
                "Answer the prosecutor's action plan",
                40,
                "cj-secure-exchange microsoft-365",
                "detective-constable pc-response",
            ),
            _step(
                "Warn witnesses for court", 20, "court-listings casebuilder", "witness-care-officer"
            ),
        ),
    ),
    JourneySpec(
        "stop-and-search-recording",
        "Stop and search recording",
        "From a stop and search on the street to a record the public scrutiny panel can rely on.",
        "neighbourhood-policing",
        False,
        "data_quality",
        (
            ("pc-response", "2"),
            ("pc-neighbourhood", "2"),
            ("roads-policing-officer", "1"),
            ("sergeant-response", "10"),
        ),
        ("search records", "receipts", "grounds for search", "outcome codes"),
        (
            _step(
                "Search and give a receipt",
                15,
                "stop-search-recorder lensvault-bwv",
                "pc-response pc-neighbourhood",
            ),
            _step(
                "Record the search",
                10,
                "stop-search-recorder pocketbook-mobile",
                "pc-response pc-neighbourhood",
            ),
            _step("Link the search to intelligence", 10, "corvid-intelligence", "pc-response"),
            _step("Supervisor review", 5, "stop-search-recorder", "sergeant-response"),
            _step(
                "Publish data for the scrutiny panel",
                5,
                "stop-search-recorder ddi",
                "information-officer",
            ),
        ),
    ),
    JourneySpec(
        "domestic-abuse-risk-assessment",
        "Domestic abuse risk assessment",
        "From attending a domestic abuse incident to a graded risk assessment, referrals and a safety plan.",
        "public-protection",
        True,
        "safeguarding",
        (
            ("pc-response", "3"),
            ("pp-detective-constable", "5"),
            ("safeguarding-officer", "10"),
            ("sergeant-response", "6"),
        ),
        (
            "DASH answers",
            "risk gradings",
            "MARAC referrals",
            "safety plans",
            "previous history checks",
        ),
        (
            _step(
                "Attend and complete the DASH questions",
                40,
                "pocketbook-mobile dash-spreadsheet",
                "pc-response",
            ),
            _step(
                "Re-type the DASH into the records system",
                20,
                "sentinel-rms dash-spreadsheet",
                "pc-response",
            ),
            _step("Supervisor risk grading", 15, "sentinel-rms", "sergeant-response"),
            _step(
                "Refer to the MASH and MARAC",
                25,
                "mash-referral-tracker microsoft-365",
                "safeguarding-officer",
            ),
            _step("Plan safety with the victim", 45, "sentinel-rms", "pp-detective-constable"),
            _step(
                "Check previous history",
                15,
                "pnd pnc corvid-intelligence",
                "pp-detective-constable",
            ),
            _step(
                "Record the outcome and review date", 10, "sentinel-rms", "pp-detective-constable"
            ),
        ),
    ),
]

# Demo users (synergy_portal.demo_users) get a place in the force too: username -> role code.
DEMO_USER_ROLES: dict[str, str] = {
    "staff": "pc-response",
    "ci": "ci-analyst",
    "owner": "inspector",
    "manager": "superintendent",
    "admin": "systems-administrator",
}

# Compact on purpose: one name per line would add two hundred lines.
FIRST_NAMES = (  # noqa: SIM905
    "Aaliyah Adam Aisha Alex Alfie Amara Amelia Amir Ana Andrew Anna Arjun Ava Ben Bethany Callum "
    "Charlotte Chloe Chris Connor Daisy Daniel David Declan Eleanor Elijah Ella Emily Emma Ethan "
    "Evie Fatima Finley Freya Gemma George Grace Hannah Harry Harvey Holly Ibrahim Imogen Isaac "
    "Isla Jack Jacob Jade James Jamie Jasmine Jessica Joe John Joseph Joshua Kai Karen Katie Kieran "
    "Laura Leah Leo Liam Lily Lucy Luke Maisie Mark Martin Matthew Maya Megan Mia Michael Mohammed "
    "Molly Naomi Nathan Niamh Noah Oliver Olivia Oscar Owen Paul Phoebe Poppy Priya Rachel Rebecca "
    "Reece Rhys Robert Rosie Ruby Ryan Sam Sarah Scarlett Sean Sophie Stephen Thomas Toby Tom Tyler "
    "Victoria William Yasmin Zain Zara Zoe"
).split()

LAST_NAMES = (  # noqa: SIM905
    "Adams Ahmed Ali Allen Anderson Armstrong Atkinson Bailey Baker Barker Barnes Bell Bennett "
    "Brooks Brown Butler Campbell Carter Chapman Clark Clarke Cole Collins Cook Cooper Cox Davies "
    "Davis Dixon Edwards Ellis Evans Fisher Fletcher Foster Fox Gibson Graham Gray Green Griffiths "
    "Hall Harris Harrison Hart Hill Holmes Hughes Hunt Hussain Jackson James Jenkins Johnson Jones "
    "Kaur Kelly Kennedy Khan King Knight Lee Lewis Lloyd Marshall Martin Mason Matthews Miller "
    "Mills Mitchell Moore Morgan Morris Murphy Murray Nelson Owen Palmer Parker Patel Pearson "
    "Phillips Powell Price Reid Richards Richardson Roberts Robinson Rogers Rose Russell Scott "
    "Shaw Simpson Singh Smith Stevens Stewart Taylor Thomas Thompson Turner Walker Ward Watson "
    "Webb White Wilkinson Williams Wilson Wood Wright Young"
).split()

STATIONS = (
    "Northgate",
    "Riverside",
    "Eastfield",
    "Kingsmead",
    "Westbrook",
    "Hillcrest",
    "Ashby Road",
    "Harbourside",
)

SEARCH_FIELDS = (
    "vehicle registration",
    "date of birth",
    "partial postcode",
    "exhibit number",
    "incident number",
    "custody number",
    "nickname",
    "crime reference",
)


# An opportunity's text comes from one kind of issue: titles, the problem, what would be better
# and (once delivered) the delivery note. Placeholders: {step} a step name, {app}/{app2}
# application names, {thing} data the journey handles, {field} a search key, {minutes}.
@dataclass(frozen=True)
class IssueSpec:
    titles: tuple[str, ...]
    problem: str
    better: str
    delivery: str


ISSUES: tuple[IssueSpec, ...] = (
    IssueSpec(
        ("{Thing} re-keyed from {app} into {app2}", "{step}: the same {thing} typed in twice"),
        "At the step '{step}' we enter the {thing} into {app} and then again into {app2}. It "
        "takes about {minutes} minutes each time and mistakes creep in when details are copied across.",
        "Enter the {thing} once and let {app2} pick them up from {app} automatically.",
        "Configured {app} so the {thing} are entered once and passed to {app2} automatically.",
    ),
    IssueSpec(
        ("{step}: {app} times out", "Long wait for {app} to load {thing}"),
        "{app} often takes several minutes to respond at '{step}', especially at shift change. "
        "People wait at a terminal instead of getting on with the job.",
        "Make {app} quick enough at '{step}' that nobody has to wait, or let us save and come back.",
        "Worked with the supplier to fix a slow search in {app}; '{step}' now loads in seconds.",
    ),
    IssueSpec(
        ("Cannot search {app} by {field}",),
        "There is no way to find the {thing} in {app} by {field}, so we scroll through long lists "
        "or ring colleagues to ask. On a busy shift this happens several times.",
        "Let us search {app} by {field} and show the match straight away.",
        "Added search by {field} to {app}, with the result shown on the first screen.",
    ),
    IssueSpec(
        ("Paper form still used for {thing}", "{app} prints {thing} that are then scanned back in"),
        "We print the {thing} from {app}, fill in the gaps by hand and scan them back in. The "
        "scans are hard to read later and sometimes go missing.",
        "A digital form that saves straight into {app}, with no printing or scanning.",
        "Built a digital form for the {thing} that saves straight into {app}; the paper form is withdrawn.",
    ),
    IssueSpec(
        ("{app} signs us out part-way through a record",),
        "{app} logs us out after a few minutes of inactivity at '{step}', and anything not saved "
        "is lost. We then start the {thing} again from the beginning.",
        "Keep the session open while a record is being written, or save drafts automatically.",
        "Extended the {app} session time during record entry and added automatic drafts.",
    ),
    IssueSpec(
        ("{step}: spreadsheet kept on the side for {thing}", "Duplicate {thing} in {app}"),
        "The {thing} live in a spreadsheet on a shared drive as well as in {app}. Nobody is sure "
        "which copy is right, and the spreadsheet is not backed up or audited.",
        "One place for the {thing}, in {app}, with the spreadsheet retired.",
        "Moved the {thing} from the spreadsheet into {app} and archived the spreadsheet.",
    ),
    IssueSpec(
        ("No mobile access to {thing} in {app}",),
        "To complete '{step}' we have to go back to a station because {app} does not work on "
        "the mobile devices. That is a round trip of up to an hour in the rural areas.",
        "Make '{step}' available on the mobile devices so it can be done at the scene.",
        "Made '{step}' available in the mobile app so it can be done at the scene.",
    ),
    IssueSpec(
        ("{app} and {app2} do not share {thing}",),
        "{app} and {app2} hold the same {thing} but do not talk to each other, so any update "
        "has to be made twice and the two often disagree.",
        "Link {app} and {app2} so a change in one shows in the other, and send the data to DDI.",
        "Linked {app} and {app2} for the {thing}; both now feed DDI.",
    ),
    IssueSpec(
        ("No single sign-on for {app}",),
        "Every time we open {app} at '{step}' we type a separate password, which expires on a "
        "different schedule from the network one. Locked accounts need a call to the service desk.",
        "Sign in to {app} with our normal account, like everything else.",
        "Enabled single sign-on for {app} and removed the second password.",
    ),
    IssueSpec(
        ("Cannot attach {thing} in {app}",),
        "{app} will not take attachments at '{step}', so the {thing} are e-mailed separately and "
        "filed by hand. They get separated from the record.",
        "Attach the {thing} to the record in {app}, with the file type checked.",
        "Enabled attachments on the '{step}' screen in {app}.",
    ),
    IssueSpec(
        ("{step}: guidance on {thing} is unclear",),
        "The guidance for '{step}' does not say which {thing} are mandatory in {app}, so records "
        "are sent back by supervisors for correction.",
        "Clear help text on the screen in {app}, with the mandatory fields marked.",
        "Added help text and marked the mandatory fields for the {thing} in {app}.",
    ),
    IssueSpec(
        ("{step}: {thing} have to be checked by phone",),
        "To confirm the {thing} at '{step}' we ring another team, because {app} does not show "
        "what {app2} holds. At night nobody answers.",
        "Show the {thing} from {app2} inside {app}, read-only.",
        "Added a read-only view of the {thing} from {app2} inside {app}.",
    ),
)

COMMENTS = (
    "Same problem on nights at {station}. It is worst between 0600 and 0800.",
    "We lose at least {minutes} minutes a shift to this.",
    "Would the fix also cover {app2}? We have the same issue there.",
    "Raised this with the service desk last year and the ticket was closed without a fix.",
    "Agree. New starters find this step the most confusing part of the job.",
    "A workaround we use at {station}: keep a template in OneNote and paste it in. Not ideal.",
    "This affects the victims too: they get asked the same questions twice.",
    "+1 from {station}. Happy to show the CI team how it works on shift.",
    "Supervisors have to check these by hand at the end of every shift.",
    "If this were fixed we could stop keeping the spreadsheet altogether.",
)

CI_COMMENTS = (
    "Thanks for raising this. We have talked it through with the journey owner and it is now in assessment.",
    "We timed this step with the {station} team: the figures in the submission look right.",
    "We have asked the supplier whether {app} can do this with configuration rather than a change.",
    "This one fits a 2-Speed cycle. We will confirm the cycle once the backlog is reviewed.",
    "Could you tell us roughly how many times a week this happens on your team?",
)

REJECTION_REASONS = (
    "The national upgrade of {app} next year replaces this screen, so a local change would be thrown away.",
    "This needs a supplier release of {app} that we cannot commission this year. We have logged it with the vendor.",
    "After assessment the time lost is small and the workaround in the comments is now the agreed process.",
    "This is a change to national policy rather than to our systems; we have passed it to the policy lead.",
    "The business owner of {app} has decided to keep the current process for audit reasons.",
)

WITHDRAWAL_REASONS = (
    "Sorted locally by our team.",
    "Raised in error: the training covered it.",
    "No longer needed since the last {app} update.",
)

BENEFIT_NON_CASH = (
    "Fewer data quality errors in the {thing}, confirmed by the DDI data quality report.",
    "Officers back on patrol sooner after '{step}'.",
    "Victims no longer asked for the same {thing} twice.",
    "The spreadsheet is retired, removing an unaudited copy of sensitive data.",
)

BENEFIT_EVIDENCE = (
    "Timed 20 occurrences of '{step}' before and after the change.",
    "DDI usage figures for {app} for the four weeks before and after go-live.",
    "Survey of the {station} and {station2} teams, four weeks after go-live.",
)

CYCLE_OUTCOMES = (
    "Delivered everything planned; one item needed a supplier call and finished on day four.",
    "Delivered all but one item, which went back to the backlog waiting for test data.",
    "Delivered as planned. Show-and-tell held with the journey owners on the last day.",
    "Capacity reduced by a day for a live incident on {app}; the remaining items were delivered.",
)
