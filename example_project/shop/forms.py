from django import forms

from .models import Order


class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ("product", "quantity")


class SupportForm(forms.Form):
    message = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Please call me back about…"}),
        help_text="Becomes a task for the operators: chat.startTask.",
    )
