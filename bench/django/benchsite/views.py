from django.http import JsonResponse

ITEM = {
    "id": 42,
    "user": "ada",
    "blocked": [7, 11, 13, 17, 19, 23],
    "updated_at": "2026-11-25T12:00:00.000Z",
    "note": "a small JSON answer, about two hundred bytes, like a typical API read",
    "ok": True,
}


def item(request):
    return JsonResponse(ITEM)
