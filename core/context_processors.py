def roles(request):
    user = request.user
    return {"is_staff_user": user.is_authenticated and user.is_staff}
