from django.http import Http404


def order_list(request):
    raise Http404


def order_new(request, listing_id):
    raise Http404


def order_detail(request, reference):
    raise Http404
