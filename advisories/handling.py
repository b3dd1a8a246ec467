"""What a partner user acknowledges before first opening an advisory: its TLP label's meaning (FIRST TLP 2.0)
and the program's handling terms."""

from advisories.models import TLP

TLP_MEANING = {
    TLP.RED: "For the eyes and ears of individual recipients only, no further disclosure.",
    TLP.AMBER_STRICT: "Limited disclosure, restricted to your organisation only, on a need-to-know basis.",
    TLP.AMBER: "Limited disclosure, on a need-to-know basis within your organisation and its clients.",
    TLP.GREEN: "Limited disclosure within your community; not via publicly accessible channels.",
    TLP.CLEAR: "No limit on disclosure, subject to standard copyright rules.",
}

HANDLING_TERMS = (
    "Use this advisory only to protect your customers, as your program agreement allows.",
    "Do not publish it or share it beyond what its TLP label allows before its public release time.",
    "Proof-of-concept code is for isolated lab use only; it must never leave your organisation.",
    "Every copy served to you is personalised for your organisation and recorded; leaks can be traced.",
    "Report any suspected leak or misuse to the program team at once.",
)
