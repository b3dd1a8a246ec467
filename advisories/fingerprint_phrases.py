"""The equivalent phrasings the text fingerprint chooses among (see docs/fingerprinting.md).

Every class lists spellings that may replace one another EVERYWHERE they occur in prose without changing the meaning
(the detector reads every occurrence of every variant as a slot, so a pair that is only sometimes equivalent would
change meaning somewhere). Variants are lower case; the first one names the class.
"""

# Hand-picked classes: contractions, discourse markers, fixed phrases, compounds written closed, hyphenated or open.
HAND_PICKED = [
    ("does not", "doesn't"),
    ("do not", "don't"),
    ("did not", "didn't"),
    ("is not", "isn't"),
    ("are not", "aren't"),
    ("was not", "wasn't"),
    ("were not", "weren't"),
    ("has not", "hasn't"),
    ("have not", "haven't"),
    ("had not", "hadn't"),
    ("will not", "won't"),
    ("would not", "wouldn't"),
    ("should not", "shouldn't"),
    ("could not", "couldn't"),
    ("cannot", "can't"),
    ("for example", "e.g.", "for instance"),
    ("furthermore", "moreover", "additionally"),
    ("therefore", "consequently"),
    ("although", "even though"),
    ("among", "amongst"),
    ("toward", "towards"),
    ("afterwards", "afterward"),
    ("approximately", "roughly"),
    ("quickly", "rapidly"),
    ("in order to", "so as to"),
    ("all of the", "all the"),
    ("both of the", "both the"),
    ("etc.", "and so on"),
    ("in case of", "in the event of"),
    ("ensure", "make sure"),
    ("ensures", "makes sure"),
    ("ensured", "made sure"),
    ("ensuring", "making sure"),
    ("attempt to", "try to"),
    ("attempts to", "tries to"),
    ("attempted to", "tried to"),
    ("attempting to", "trying to"),
    ("allow", "permit"),
    ("allows", "permits"),
    ("allowed", "permitted"),
    ("allowing", "permitting"),
    ("affected", "impacted"),
    ("gain access", "obtain access", "get access"),
    ("gains access", "obtains access", "gets access"),
    ("gained access", "obtained access"),
    ("execute arbitrary code", "run arbitrary code"),
    ("executes arbitrary code", "runs arbitrary code"),
    ("executing arbitrary code", "running arbitrary code"),
    ("execute code", "run code"),
    ("execute commands", "run commands"),
    ("apply the update", "install the update"),
    ("apply the updates", "install the updates"),
    ("apply the patch", "install the patch"),
    ("specially crafted", "maliciously crafted"),
    ("buffer overflow", "buffer overrun"),
    ("buffer overflows", "buffer overruns"),
    ("out-of-bounds", "out of bounds"),
    ("use-after-free", "use after free"),
    ("heap-based", "heap based"),
    ("stack-based", "stack based"),
    ("proof-of-concept", "proof of concept"),
    ("cross-site", "cross site"),
    ("server-side", "server side"),
    ("client-side", "client side"),
    ("third-party", "third party"),
    ("zero-day", "zero day"),
    ("denial-of-service", "denial of service"),
    ("open-source", "open source"),
    ("command-line", "command line"),
    ("real-time", "real time"),
    ("well-known", "well known"),
    ("up-to-date", "up to date"),
    ("low-privileged", "low privileged"),
    ("high-privileged", "high privileged"),
    ("pre-authentication", "preauthentication"),
    ("e-mail", "email"),
    ("e-mails", "emails"),
    ("log file", "logfile", "log-file"),
    ("log files", "logfiles", "log-files"),
    ("file name", "filename"),
    ("file names", "filenames"),
    ("web server", "webserver", "web-server"),
    ("web servers", "webservers", "web-servers"),
    ("web site", "website"),
    ("web page", "webpage"),
    ("time stamp", "timestamp"),
    ("time stamps", "timestamps"),
    ("plug-in", "plugin"),
    ("plug-ins", "plugins"),
    ("sub-domain", "subdomain"),
    ("sub-domains", "subdomains"),
    ("sub-directory", "subdirectory"),
    ("multi-factor", "multifactor"),
    ("hard-coded", "hardcoded", "hard coded"),
    ("workaround", "work-around"),
    ("workarounds", "work-arounds"),
    ("code base", "codebase"),
    ("back end", "backend", "back-end"),
    ("front end", "frontend", "front-end"),
    ("percent", "per cent"),
    ("judgment", "judgement"),
    ("acknowledgment", "acknowledgement"),
    ("gray", "grey"),
]

# British and American spellings of words common in security prose, generated with their inflections.
_IZE_STEMS = [
    "sanit", "serial", "deserial", "initial", "author", "unauthor", "organ", "priorit", "recogn", "minim", "maxim",
    "util", "custom", "normal", "optim", "random", "synchron", "final", "summar", "categor", "character",
    "standard", "visual", "virtual", "container", "token", "real", "emphas", "special", "general", "local",
    "central", "neutral", "stabil", "parameter", "capital", "weapon", "memor", "canonical", "legitim",
]  # fmt: skip
_IZE_SUFFIXES = ["e", "es", "ed", "ing", "ation", "ations", "er", "ers"]
_YSE_STEMS = ["analy", "paraly"]
_YSE_SUFFIXES = ["e", "ed", "ing", "er", "ers"]  # not "es": "analyses" is also the plural of "analysis"
_PAIRS = [
    ("behavior", "behaviour"), ("behaviors", "behaviours"), ("behavioral", "behavioural"),
    ("favor", "favour"), ("favorable", "favourable"), ("honor", "honour"), ("neighbor", "neighbour"),
    ("center", "centre"), ("centers", "centres"), ("defense", "defence"), ("defenses", "defences"),
    ("offense", "offence"), ("labeled", "labelled"), ("labeling", "labelling"), ("canceled", "cancelled"),
    ("canceling", "cancelling"), ("modeling", "modelling"), ("modeled", "modelled"), ("signaling", "signalling"),
    ("signaled", "signalled"), ("tunneling", "tunnelling"), ("tunneled", "tunnelled"),
    ("marshaling", "marshalling"), ("marshaled", "marshalled"), ("traveled", "travelled"),
    ("enrollment", "enrolment"), ("fulfill", "fulfil"), ("fulfills", "fulfils"), ("catalog", "catalogue"),
    ("catalogs", "catalogues"), ("dialog", "dialogue"), ("dialogs", "dialogues"), ("analog", "analogue"),
]  # fmt: skip


def _spelling_classes():
    for stem in _IZE_STEMS:
        for suffix in _IZE_SUFFIXES:
            yield (f"{stem}iz{suffix}", f"{stem}is{suffix}")
    for stem in _YSE_STEMS:
        for suffix in _YSE_SUFFIXES:
            yield (f"{stem}z{suffix}", f"{stem}s{suffix}")
    yield from _PAIRS


PHRASE_CLASSES: list[tuple[str, ...]] = HAND_PICKED + list(_spelling_classes())
