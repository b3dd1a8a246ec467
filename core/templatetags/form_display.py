"""Display helpers for forms: the list of problems shown at the top of a form, each linking to its field."""

from django import template

register = template.Library()


@register.simple_tag
def form_problems(form) -> list[dict]:
    """Every error of the form, in field order: the form's own first, then each field's with its label and the id
    its input carries (for a link to it)."""
    problems = [{"label": "", "anchor": "", "message": message} for message in form.non_field_errors()]
    for field in form:
        for message in field.errors:
            problems.append({"label": field.label, "anchor": field.id_for_label, "message": message})
    return problems
