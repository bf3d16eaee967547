"""Gradio widget for the VGGSounder metric when it is hosted as a Hub Space."""

import evaluate
from evaluate.utils import launch_gradio_widget

module = evaluate.load("vggsounder")
launch_gradio_widget(module)
