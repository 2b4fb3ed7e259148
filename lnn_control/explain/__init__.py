"""Interpretability: saliency, SSIM of saliency under perturbations, neuron activity, PCA and
ablation, for any world (through the World record) and every policy kind with a state."""
